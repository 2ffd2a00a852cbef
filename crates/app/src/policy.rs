//! Who may do what: the one authorisation policy. Every use case asks [`require`] before it touches
//! data, and scopes its queries with the `*_scope` functions here, so that visibility rules live in one
//! place. Users are judged by their roles, API keys by their scopes; both by their organisation's kind.

use lianrong_domain::org::OrgKind;
use lianrong_domain::role::{Role, Scope};
use lianrong_store::chain::ChainScope;
use lianrong_store::core_library::LibraryScope;
use lianrong_store::log::LogScope;
use lianrong_store::org::OrgScope;

use crate::error::{AppError, AppResult};

/// The caller of a use case: a console user, an API key, or the platform itself (CLI administration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub org_id: String,
    pub org_kind: OrgKind,
    pub org_name: String,
    pub user_id: Option<String>,
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub api_key_id: Option<String>,
    pub roles: Vec<Role>,
    /// `Some` for API keys: what the key was granted.
    pub scopes: Option<Vec<Scope>>,
    pub system: bool,
}

impl Actor {
    /// Who acted, as a trail names them: the login of a user or of the mailbox sender, the API key by
    /// name and id (a key acts for its organisation but is not the organisation), else the organisation.
    /// Every record's "by" (issued, decided, disbursed, imported, submitted by) is this one name.
    pub fn trail_name(&self) -> String {
        match (&self.login, &self.api_key_id) {
            (Some(login), _) => login.clone(),
            (None, Some(key_id)) => {
                let name = self.display_name.as_deref().unwrap_or("");
                format!("api_key:{name} ({key_id})")
            }
            (None, None) => self.org_name.clone(),
        }
    }

    /// The platform acting for a local administrator (`lianrong admin`, the demo builder).
    pub fn system(operator_org_id: &str) -> Actor {
        Actor {
            org_id: operator_org_id.to_string(),
            org_kind: OrgKind::Operator,
            org_name: "system".to_string(),
            user_id: None,
            login: Some("system".to_string()),
            display_name: Some("system".to_string()),
            api_key_id: None,
            roles: vec![Role::OrgAdmin, Role::OperatorStaff],
            scopes: None,
            system: true,
        }
    }

    /// A message received at `org`'s designated mailbox from a registered `sender`: it submits trade data
    /// as the organisation's finance staff would, and its trail names the sender.
    pub fn mailbox(org_id: &str, org_kind: OrgKind, org_name: &str, sender: &str) -> Actor {
        Actor {
            org_id: org_id.to_string(),
            org_kind,
            org_name: org_name.to_string(),
            user_id: None,
            login: Some(format!("mailbox:{sender}")),
            display_name: Some(sender.to_string()),
            api_key_id: None,
            roles: vec![Role::FinanceStaff],
            scopes: None,
            system: false,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_operator_manager(&self) -> bool {
        self.org_kind == OrgKind::Operator && (self.has_role(Role::OrgAdmin) || self.has_role(Role::OperatorStaff))
    }

    /// Cores and suppliers share trade data; only they have a designated mailbox.
    pub fn submits_trade_data(&self) -> bool {
        matches!(self.org_kind, OrgKind::Core | OrgKind::Supplier)
    }

    /// Whether the actor sees every organisation's directory entry, chains and library entries.
    pub fn sees_everything(&self) -> bool {
        matches!(self.org_kind, OrgKind::Operator | OrgKind::Regulator)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadDirectory,
    CreateOrg,
    ManageUsccExceptions,
    ReadUsers,
    /// Create users, change roles, reset passwords in the actor's own organisation (or any, for the operator).
    ManageUsers,
    ManageApiKeys,
    ReadChains,
    ManageChains,
    ManageClusters,
    ReadLibrary,
    ApplyLibrary,
    DecideLibrary,
    ReadAudit,
    /// Share trade data with the lake (cores and suppliers).
    SubmitTrade,
    /// Read one's own submissions and trade records (the operator reads all, as the lake's custodian).
    ReadTrade,
    /// Register and remove the senders of an organisation's designated mailbox.
    ManageMailbox,
    /// See an organisation's designated address, registered senders and receipts.
    ReadMailbox,
    /// A creditor asks its debtor to confirm receivables (确权申请).
    RequestConfirmation,
    /// A debtor confirms or rejects receivables, signing with its SM2 key (确权).
    DecideConfirmation,
    /// Bind a receivable to a fixed repayment account, or consent to changing it (回款账户确定).
    ManageCollectionAccount,
    /// Register receivables against double financing, and release registrations (登记).
    RegisterReceivable,
    /// See the credit lines one granted or was granted.
    ReadCreditLines,
    /// A bank grants dedicated supply-chain credit lines.
    ManageCreditLines,
    /// See the commitments one issued, backs, holds or held, or was offered at a bank.
    ReadCommitments,
    /// A core issues digital payment commitments to its suppliers.
    IssueCommitment,
    /// Holders split, transfer and discount parts; banks post or void discounts; the issuer settles.
    OperateCommitment,
    /// Read the product catalogue (published products are public; drafts only their bank's).
    ReadProducts,
    /// See financing applications one made or received, and the loans that came of them.
    ReadApplications,
    /// A supplier (or core) applies for financing.
    ApplyFinancing,
    /// A bank reviews, decides, disburses and records repayments.
    DecideFinancing,
    /// A bank's staff draft, edit, publish and withdraw its financing products.
    ManageProducts,
    /// See the data consents one gave or was given.
    ReadConsents,
    /// An owner of trade data (core or supplier) grants a bank access to named categories, and revokes it.
    GrantConsent,
    /// A bank's staff read an owner's data through a live consent (every read audited).
    UseConsent,
}

impl Permission {
    /// The scope an API key needs; `None` means keys may never do this.
    fn scope(self) -> Option<Scope> {
        match self {
            Permission::ReadDirectory => Some(Scope::OrganisationRead),
            Permission::ReadChains => Some(Scope::ChainRead),
            Permission::ManageChains => Some(Scope::ChainWrite),
            Permission::ReadLibrary => Some(Scope::CoreLibraryRead),
            Permission::ApplyLibrary | Permission::DecideLibrary => Some(Scope::CoreLibraryWrite),
            Permission::ReadTrade => Some(Scope::TradeRead),
            Permission::SubmitTrade => Some(Scope::TradeWrite),
            Permission::RequestConfirmation
            | Permission::DecideConfirmation
            | Permission::ManageCollectionAccount
            | Permission::RegisterReceivable => Some(Scope::ReceivableWrite),
            Permission::ReadCommitments => Some(Scope::CommitmentRead),
            Permission::IssueCommitment | Permission::OperateCommitment => Some(Scope::CommitmentWrite),
            _ => None,
        }
    }

    fn is_read(self) -> bool {
        matches!(
            self,
            Permission::ReadDirectory
                | Permission::ReadUsers
                | Permission::ReadChains
                | Permission::ReadLibrary
                | Permission::ReadAudit
                | Permission::ReadTrade
                | Permission::ReadCreditLines
                | Permission::ReadCommitments
                | Permission::ReadProducts
                | Permission::ReadApplications
                | Permission::ReadConsents
        )
    }
}

/// The rule for users (by role) and for organisations (by kind). API keys additionally need the scope.
fn role_allows(actor: &Actor, p: Permission) -> bool {
    use Permission as P;
    let admin = actor.has_role(Role::OrgAdmin);
    match p {
        P::ReadDirectory
        | P::ReadChains
        | P::ReadLibrary
        | P::ReadTrade
        | P::ReadCreditLines
        | P::ReadCommitments
        | P::ReadProducts
        | P::ReadApplications
        | P::ReadConsents => true,
        P::ApplyFinancing => actor.submits_trade_data() && (admin || actor.has_role(Role::FinanceStaff)),
        P::DecideFinancing => {
            actor.org_kind == OrgKind::Bank
                && (admin || actor.has_role(Role::BankOfficer) || actor.has_role(Role::BankApprover))
        }
        P::IssueCommitment => actor.org_kind == OrgKind::Core && (admin || actor.has_role(Role::FinanceStaff)),
        P::OperateCommitment => {
            (actor.submits_trade_data() && (admin || actor.has_role(Role::FinanceStaff)))
                || (actor.org_kind == OrgKind::Bank
                    && (admin || actor.has_role(Role::BankOfficer) || actor.has_role(Role::BankApprover)))
        }
        P::GrantConsent => actor.submits_trade_data() && (admin || actor.has_role(Role::FinanceStaff)),
        P::ManageCreditLines | P::ManageProducts | P::UseConsent => {
            actor.org_kind == OrgKind::Bank
                && (admin || actor.has_role(Role::BankOfficer) || actor.has_role(Role::BankApprover))
        }
        P::SubmitTrade => {
            matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier) && (admin || actor.has_role(Role::FinanceStaff))
        }
        P::ReadUsers => admin || actor.has_role(Role::Auditor) || actor.is_operator_manager(),
        P::ReadAudit => admin || actor.has_role(Role::Auditor),
        P::ManageUsers | P::ManageApiKeys => admin,
        P::CreateOrg | P::ManageUsccExceptions | P::ManageChains | P::ManageClusters | P::DecideLibrary => {
            actor.is_operator_manager()
        }
        P::ManageMailbox => actor.is_operator_manager() || (actor.submits_trade_data() && admin),
        P::ReadMailbox => {
            actor.is_operator_manager() || (actor.submits_trade_data() && (admin || actor.has_role(Role::FinanceStaff)))
        }
        // Cores and suppliers act on their own receivables and payables; a bank consents to account
        // changes and registers the receivables it finances. Finance staff do this work, admins may too.
        P::RequestConfirmation | P::DecideConfirmation => {
            actor.submits_trade_data() && (admin || actor.has_role(Role::FinanceStaff))
        }
        P::ManageCollectionAccount | P::RegisterReceivable => {
            (actor.submits_trade_data() && (admin || actor.has_role(Role::FinanceStaff)))
                || (actor.org_kind == OrgKind::Bank
                    && (admin || actor.has_role(Role::BankOfficer) || actor.has_role(Role::BankApprover)))
        }
        P::ApplyLibrary => {
            actor.is_operator_manager()
                || (matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier)
                    && (admin || actor.has_role(Role::FinanceStaff)))
        }
    }
}

pub fn allows(actor: &Actor, p: Permission) -> bool {
    if actor.system {
        return true;
    }
    match &actor.scopes {
        Some(scopes) => match p.scope() {
            Some(needed) => scopes.contains(&needed) && (p.is_read() || kind_may_write_with_key(actor.org_kind, p)),
            None => false,
        },
        None => role_allows(actor, p),
    }
}

/// What an organisation's API key may change: the operator manages chains and decides the library; a
/// core or supplier applies to it.
fn kind_may_write_with_key(kind: OrgKind, p: Permission) -> bool {
    match p {
        Permission::ManageChains | Permission::DecideLibrary => kind == OrgKind::Operator,
        Permission::ApplyLibrary => matches!(kind, OrgKind::Operator | OrgKind::Core | OrgKind::Supplier),
        Permission::SubmitTrade | Permission::RequestConfirmation | Permission::DecideConfirmation => {
            matches!(kind, OrgKind::Core | OrgKind::Supplier)
        }
        Permission::ManageCollectionAccount | Permission::RegisterReceivable | Permission::OperateCommitment => {
            matches!(kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Bank)
        }
        Permission::IssueCommitment => kind == OrgKind::Core,
        _ => false,
    }
}

pub fn require(actor: &Actor, p: Permission) -> AppResult<()> {
    if allows(actor, p) {
        Ok(())
    } else if actor.scopes.is_some() {
        Err(AppError::forbidden(
            format!("This API key's scopes or organisation kind do not allow this action ({p:?})"),
            format!("该API密钥的权限范围或机构类型不允许此操作（{p:?}）"),
        ))
    } else {
        Err(AppError::forbidden(
            format!("Your role does not allow this action ({p:?})"),
            format!("您的角色无权执行此操作（{p:?}）"),
        ))
    }
}

pub fn org_scope(actor: &Actor) -> OrgScope {
    if actor.sees_everything() || actor.system {
        OrgScope::All
    } else {
        OrgScope::OwnAndChainPeers { viewer_org_id: actor.org_id.clone() }
    }
}

pub fn chain_scope(actor: &Actor) -> ChainScope {
    if actor.sees_everything() || actor.system {
        ChainScope::All
    } else {
        ChainScope::MemberOf { org_id: actor.org_id.clone() }
    }
}

pub fn library_scope(actor: &Actor) -> LibraryScope {
    if actor.sees_everything() || actor.system {
        LibraryScope::All
    } else if actor.org_kind == OrgKind::Bank {
        LibraryScope::DecidedAndOwn { org_id: actor.org_id.clone() }
    } else {
        LibraryScope::Own { org_id: actor.org_id.clone() }
    }
}

/// Log leaves: the operator and the regulator see all; everyone else the leaves it is a party to.
pub fn log_scope(actor: &Actor) -> LogScope {
    if actor.sees_everything() || actor.system {
        LogScope::All
    } else {
        LogScope::PartyOf { org_id: actor.org_id.clone() }
    }
}

pub(crate) fn guard_trade_sharer(actor: &Actor) -> AppResult<()> {
    use lianrong_domain::org::OrgKind;
    if actor.system || matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only core enterprises and suppliers share trade data with the lake",
            "只有核心企业和供应商向数据湖报送贸易数据",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(kind: OrgKind, roles: &[Role]) -> Actor {
        Actor {
            org_id: "o".into(),
            org_kind: kind,
            org_name: "o".into(),
            user_id: Some("u".into()),
            login: Some("u".into()),
            display_name: None,
            api_key_id: None,
            roles: roles.to_vec(),
            scopes: None,
            system: false,
        }
    }

    #[test]
    fn only_operator_staff_decide_the_library() {
        assert!(allows(&user(OrgKind::Operator, &[Role::OperatorStaff]), Permission::DecideLibrary));
        assert!(!allows(&user(OrgKind::Operator, &[Role::Auditor]), Permission::DecideLibrary));
        assert!(!allows(&user(OrgKind::Core, &[Role::OrgAdmin]), Permission::DecideLibrary));
        assert!(allows(&user(OrgKind::Core, &[Role::FinanceStaff]), Permission::ApplyLibrary));
        assert!(!allows(&user(OrgKind::Bank, &[Role::OrgAdmin]), Permission::ApplyLibrary));
    }

    #[test]
    fn mailboxes_are_managed_by_enterprise_admins_and_the_operator() {
        assert!(allows(&user(OrgKind::Core, &[Role::OrgAdmin]), Permission::ManageMailbox));
        assert!(allows(&user(OrgKind::Supplier, &[Role::OrgAdmin]), Permission::ManageMailbox));
        assert!(allows(&user(OrgKind::Operator, &[Role::OperatorStaff]), Permission::ManageMailbox));
        assert!(!allows(&user(OrgKind::Core, &[Role::FinanceStaff]), Permission::ManageMailbox));
        assert!(allows(&user(OrgKind::Core, &[Role::FinanceStaff]), Permission::ReadMailbox));
        assert!(!allows(&user(OrgKind::Bank, &[Role::OrgAdmin]), Permission::ReadMailbox));
        assert!(!allows(&user(OrgKind::Regulator, &[Role::OrgAdmin]), Permission::ManageMailbox));
        let mut key = user(OrgKind::Core, &[]);
        key.scopes = Some(Scope::ALL.to_vec());
        assert!(!allows(&key, Permission::ManageMailbox));
        let mail = Actor::mailbox("o", OrgKind::Core, "o", "a@b.cn");
        assert_eq!(mail.login.as_deref(), Some("mailbox:a@b.cn"));
        assert!(!allows(&mail, Permission::ManageMailbox));
    }

    #[test]
    fn keys_need_scopes_and_never_manage_users() {
        let mut key = user(OrgKind::Core, &[]);
        key.scopes = Some(vec![Scope::CoreLibraryRead]);
        assert!(allows(&key, Permission::ReadLibrary));
        assert!(!allows(&key, Permission::ApplyLibrary));
        assert!(!allows(&key, Permission::ManageUsers));
        key.scopes = Some(Scope::ALL.to_vec());
        assert!(allows(&key, Permission::ApplyLibrary));
        assert!(!allows(&key, Permission::DecideLibrary));
        assert!(!allows(&key, Permission::ManageApiKeys));
    }
}
