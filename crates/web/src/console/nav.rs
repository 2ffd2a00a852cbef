//! The console's navigation: the pages an organisation's kind and the user's permissions open, in the
//! order the menu shows them.

use lianrong_app::{Actor, Permission, policy};
use lianrong_domain::org::OrgKind;

pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub label: &'static str,
}

pub(super) fn nav_for(actor: &Actor, lang_en: bool) -> Vec<NavItem> {
    let t = |zh: &'static str, en: &'static str| if lang_en { en } else { zh };
    let mut nav = vec![
        NavItem { key: "home", href: "/home", label: t("工作台", "Home") },
        NavItem { key: "library", href: "/core-library", label: t("核心企业库", "Core library") },
        NavItem { key: "chains", href: "/chains", label: t("产业链", "Chains") },
        NavItem { key: "orgs", href: "/orgs", label: t("机构名录", "Organisations") },
        NavItem { key: "clusters", href: "/clusters", label: t("产业集群", "Clusters") },
    ];
    nav.push(NavItem { key: "log", href: "/log", label: t("存证日志", "Verifiable log") });
    // The data lake: those who share trade data, and the operator who keeps it.
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Operator) {
        nav.push(NavItem { key: "submissions", href: "/submissions", label: t("数据报送", "Data sharing") });
    }
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Operator) {
        nav.push(NavItem { key: "receivables", href: "/receivables", label: t("应收账款", "Receivables") });
    }
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Supplier | OrgKind::Operator | OrgKind::Regulator) {
        nav.push(NavItem { key: "confirmations", href: "/confirmations", label: t("确权", "Confirmation") });
    }
    if actor.org_kind != OrgKind::Regulator {
        nav.push(NavItem { key: "credit_lines", href: "/credit-lines", label: t("授信额度", "Credit lines") });
    }
    nav.push(NavItem { key: "commitments", href: "/commitments", label: t("债权凭证", "Commitments") });
    if actor.org_kind != OrgKind::Regulator {
        nav.push(NavItem { key: "applications", href: "/applications", label: t("融资申请", "Applications") });
    }
    nav.push(NavItem { key: "loans", href: "/loans", label: t("融资台账", "Loans") });
    if matches!(actor.org_kind, OrgKind::Operator | OrgKind::Regulator) {
        nav.push(NavItem { key: "financing", href: "/financing", label: t("融资统计", "Financing") });
    }
    nav.push(NavItem { key: "products", href: "/products", label: t("产品目录", "Products") });
    let consents = match actor.org_kind {
        OrgKind::Core | OrgKind::Supplier => t("我的授权", "My consents"),
        OrgKind::Bank => t("客户授权", "Consents received"),
        _ => t("数据授权", "Consents"),
    };
    nav.push(NavItem { key: "consents", href: "/consents", label: consents });
    if matches!(actor.org_kind, OrgKind::Core | OrgKind::Operator | OrgKind::Regulator) {
        nav.push(NavItem { key: "penetration", href: "/penetration", label: t("信用穿透", "Credit reach") });
    }
    nav.push(NavItem { key: "registrations", href: "/registrations", label: t("登记", "Registrations") });
    if policy::allows(actor, Permission::ReadUsers) {
        nav.push(NavItem { key: "users", href: "/users", label: t("用户管理", "Users") });
    }
    if policy::allows(actor, Permission::ManageApiKeys) {
        nav.push(NavItem { key: "api_keys", href: "/api-keys", label: t("API密钥", "API keys") });
    }
    if policy::allows(actor, Permission::ReadMailbox) {
        nav.push(NavItem { key: "mailbox", href: "/mailbox", label: t("定点邮箱", "Mailbox") });
    }
    if policy::allows(actor, Permission::ReadAudit) {
        nav.push(NavItem { key: "audit", href: "/audit", label: t("审计日志", "Audit log") });
    }
    nav
}
