//! `lianrong admin`: what a local administrator does without the console — migrations, the first
//! organisation and user, password resets, API keys. It acts as the platform itself (`Actor::system`),
//! and every action is written to the audit trail like any other.

use clap::Subcommand;
use lianrong_app::{Actor, App, api_key, org, user};
use lianrong_store::org::OrgFilter;

use crate::options::{DbOptions, app_error, open_in};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Apply pending migrations and exit.
    Migrate,
    /// Create an organisation.
    CreateOrg {
        #[arg(long)]
        uscc: String,
        #[arg(long)]
        name: String,
        /// operator, core, supplier, bank, service_institution, regulator
        #[arg(long)]
        kind: String,
        /// large, medium, small, micro
        #[arg(long, default_value = "large")]
        size_class: String,
        #[arg(long)]
        region_code: Option<String>,
    },
    /// Create a user in an organisation (by its credit code). The password comes from
    /// LIANRONG_PASSWORD or the first line of standard input.
    CreateUser {
        #[arg(long)]
        org_uscc: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        display_name: String,
        /// Repeat for several roles: org_admin, finance_staff, bank_officer, bank_approver, operator_staff, auditor
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Set a new password (from LIANRONG_PASSWORD or standard input) and end the user's sessions.
    ResetPassword {
        #[arg(long)]
        login: String,
    },
    /// Create an API key for an organisation; prints the secret once.
    CreateApiKey {
        #[arg(long)]
        org_uscc: String,
        #[arg(long)]
        name: String,
        /// Repeat for several scopes: organisation:read, chain:read, chain:write, core_library:read, core_library:write
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// Print the verifiable log's SM2 public key, to publish it: the key from LIANRONG_LOG_KEY_FILE when
    /// set, otherwise the one kept in the database (made now if the platform has none yet).
    LogKey,
}

fn read_password() -> Result<String, String> {
    if let Ok(p) = std::env::var("LIANRONG_PASSWORD") {
        return Ok(p);
    }
    eprintln!("password / 密码 (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn org_by_uscc(app: &App, actor: &Actor, uscc: &str) -> Result<lianrong_store::org::OrgRecord, String> {
    let code = uscc.trim().to_uppercase();
    let page = org::list(
        app,
        actor,
        OrgFilter { kind: None, query: Some(code.clone()) },
        lianrong_domain::page::PageRequest::first(),
    )
    .await
    .map_err(app_error)?;
    page.items
        .into_iter()
        .find(|o| o.uscc == code)
        .ok_or_else(|| format!("no organisation with credit code {code} / 不存在该统一社会信用代码的机构"))
}

pub async fn run(db: DbOptions, command: AdminCommand) -> Result<(), String> {
    let app = open_in(&db.url()?, &db.lake(), &db.data_dir).await?;
    let system = Actor::system("system");
    match command {
        AdminCommand::Migrate => {
            println!("migrations up to date ({} known)", app.db.known_migrations());
        }
        AdminCommand::CreateOrg { uscc, name, kind, size_class, region_code } => {
            let rec = org::create(&app, &system, org::NewOrg { uscc, name, kind, size_class, region_code })
                .await
                .map_err(app_error)?;
            println!("created organisation {} {} ({}) id={}", rec.uscc, rec.name, rec.kind, rec.id);
        }
        AdminCommand::CreateUser { org_uscc, login, display_name, roles } => {
            let o = org_by_uscc(&app, &system, &org_uscc).await?;
            let password = read_password()?;
            let rec = user::create(&app, &system, user::NewUser { org_id: o.id, login, display_name, password, roles })
                .await
                .map_err(app_error)?;
            println!("created user {} in {} id={}", rec.login, o.name, rec.id);
        }
        AdminCommand::ResetPassword { login } => {
            let u = user::find_by_login(&app, &login)
                .await
                .map_err(app_error)?
                .ok_or_else(|| format!("no user with login {login} / 不存在该登录名"))?;
            let password = read_password()?;
            user::reset_password(&app, &system, &u.id, &password).await.map_err(app_error)?;
            println!("password of {} reset; their sessions have ended", u.login);
        }
        AdminCommand::CreateApiKey { org_uscc, name, scopes } => {
            let o = org_by_uscc(&app, &system, &org_uscc).await?;
            // Keys belong to the organisation, so the platform acts as that organisation's admin here.
            let actor = Actor { org_id: o.id.clone(), org_kind: o.kind, org_name: o.name.clone(), ..system.clone() };
            let created = api_key::create(&app, &actor, &name, &scopes).await.map_err(app_error)?;
            println!(
                "created API key {} for {} (shown once, store it now):\n{}",
                created.record.name, o.name, created.plaintext
            );
        }
        AdminCommand::LogKey => {
            let key = lianrong_app::log::public_key(&app, &system).await.map_err(app_error)?;
            println!("key_id: {}", key.key_id());
            println!("signature_alg: sm2-sm3 (distid {})", lianrong_app::log::SM2_DISTID);
            println!("public_key_hex: {}", key.sec1_hex());
            print!("{}", key.pem().map_err(app_error)?);
        }
    }
    Ok(())
}
