//! The console's navigation, grouped by task: the day's work first, then trade data, financing, the
//! chain, and the organisation's own administration. Each kind of organisation sees the pages it works
//! with (a bank has no data-sharing page, a supplier no cluster register), and permissions narrow it
//! further; every page still refuses what the caller may not do, whatever the menu shows.

use lianrong_app::{Actor, Permission, policy};
use lianrong_domain::org::OrgKind;

pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub label: &'static str,
}

/// A heading of the menu and its pages; a group with no page for the caller is left out.
pub struct NavGroup {
    pub label: &'static str,
    pub items: Vec<NavItem>,
}

/// Who works with a page: kinds of organisation.
fn kinds(actor: &Actor, allowed: &[OrgKind]) -> bool {
    allowed.contains(&actor.org_kind)
}

pub(super) fn nav_for(actor: &Actor, lang_en: bool) -> Vec<NavGroup> {
    use OrgKind::{Bank, Core, Operator, Regulator, Supplier};
    let t = |zh: &'static str, en: &'static str| if lang_en { en } else { zh };
    let item = |key, href, label| NavItem { key, href, label };
    let mut groups = Vec::new();
    groups
        .push(NavGroup { label: t("工作台", "Today"), items: vec![item("home", "/home", t("工作台", "Home"))] });

    let mut trade = Vec::new();
    if kinds(actor, &[Core, Supplier, Operator]) {
        trade.push(item("submissions", "/submissions", t("数据报送", "Data sharing")));
        let receivables =
            if actor.org_kind == Core { t("应付与应收", "Payables") } else { t("应收账款", "Receivables") };
        trade.push(item("receivables", "/receivables", receivables));
    }
    if kinds(actor, &[Core, Supplier, Operator, Regulator]) {
        trade.push(item("confirmations", "/confirmations", t("确权", "Confirmation")));
    }
    trade.push(item("registrations", "/registrations", t("登记", "Registrations")));
    groups.push(NavGroup { label: t("贸易与确权", "Trade and confirmation"), items: trade });

    let mut financing = Vec::new();
    if kinds(actor, &[Bank, Supplier, Operator]) {
        financing.push(item("applications", "/applications", t("融资申请", "Applications")));
    }
    financing.push(item("commitments", "/commitments", t("债权凭证", "Commitments")));
    financing.push(item("loans", "/loans", t("融资台账", "Loans")));
    if actor.org_kind != Regulator {
        financing.push(item("credit_lines", "/credit-lines", t("授信额度", "Credit lines")));
    }
    financing.push(item("products", "/products", t("产品目录", "Products")));
    let consents = match actor.org_kind {
        Core | Supplier => t("我的授权", "My consents"),
        Bank => t("客户授权", "Consents received"),
        _ => t("数据授权", "Consents"),
    };
    financing.push(item("consents", "/consents", consents));
    groups.push(NavGroup { label: t("融资", "Financing"), items: financing });

    let mut chain = Vec::new();
    if kinds(actor, &[Operator, Regulator]) {
        chain.push(item("financing", "/financing", t("融资统计", "Financing figures")));
    }
    if kinds(actor, &[Core, Operator, Regulator]) {
        chain.push(item("penetration", "/penetration", t("信用穿透", "Credit reach")));
    }
    chain.push(item("chains", "/chains", t("产业链", "Chains")));
    // Every kind reads the library: cores and suppliers apply to it, banks look up admitted cores.
    chain.push(item("library", "/core-library", t("核心企业库", "Core library")));
    if kinds(actor, &[Bank, Operator, Regulator]) {
        chain.push(item("orgs", "/orgs", t("机构名录", "Organisations")));
    }
    if kinds(actor, &[Operator, Regulator]) {
        chain.push(item("clusters", "/clusters", t("产业集群", "Clusters")));
    }
    groups.push(NavGroup { label: t("产业链", "Chains"), items: chain });

    let mut admin = vec![item("log", "/log", t("存证日志", "Verifiable log"))];
    if policy::allows(actor, Permission::ReadUsers) {
        admin.push(item("users", "/users", t("用户管理", "Users")));
    }
    if policy::allows(actor, Permission::ManageApiKeys) {
        admin.push(item("api_keys", "/api-keys", t("API密钥", "API keys")));
    }
    if policy::allows(actor, Permission::ReadMailbox) {
        admin.push(item("mailbox", "/mailbox", t("定点邮箱", "Mailbox")));
    }
    if policy::allows(actor, Permission::ReadAudit) {
        admin.push(item("audit", "/audit", t("审计日志", "Audit log")));
    }
    groups.push(NavGroup { label: t("存证与管理", "Evidence and administration"), items: admin });
    groups.retain(|g| !g.items.is_empty());
    groups
}
