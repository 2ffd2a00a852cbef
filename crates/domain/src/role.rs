//! User roles and API-key scopes, and which kinds of organisation may hold them.

use crate::labelled_enum;
use crate::org::OrgKind;

labelled_enum!(
    /// A user's role inside its own organisation.
    Role, "role" {
        OrgAdmin => ("org_admin", "机构管理员", "Organisation admin"),
        FinanceStaff => ("finance_staff", "财务人员", "Finance staff"),
        BankOfficer => ("bank_officer", "客户经理", "Bank officer"),
        BankApprover => ("bank_approver", "审批人", "Bank approver"),
        OperatorStaff => ("operator_staff", "运营人员", "Operator staff"),
        Auditor => ("auditor", "审计人员", "Auditor"),
    }
);

impl Role {
    /// Bank roles only at banks, operator staff only at the operator; the rest anywhere.
    pub fn allowed_for(self, kind: OrgKind) -> bool {
        match self {
            Role::BankOfficer | Role::BankApprover => kind == OrgKind::Bank,
            Role::OperatorStaff => kind == OrgKind::Operator,
            Role::OrgAdmin | Role::FinanceStaff | Role::Auditor => true,
        }
    }
}

labelled_enum!(
    /// What an API key may do on behalf of its organisation. Keys never manage users or keys.
    Scope, "scope" {
        OrganisationRead => ("organisation:read", "读取机构信息", "Read organisations"),
        ChainRead => ("chain:read", "读取产业链", "Read chains"),
        ChainWrite => ("chain:write", "维护产业链", "Manage chains"),
        CoreLibraryRead => ("core_library:read", "读取核心企业库", "Read the core-enterprise library"),
        CoreLibraryWrite => ("core_library:write", "申报/维护核心企业库", "Apply to or manage the core-enterprise library"),
        TradeRead => ("trade:read", "读取报送与贸易数据", "Read submissions and trade records"),
        TradeWrite => ("trade:write", "报送贸易数据", "Submit trade data"),
        ReceivableWrite => ("receivable:write", "应收账款确权、回款账户与登记", "Confirm, bind accounts and register receivables"),
        CommitmentRead => ("commitment:read", "读取债权凭证", "Read payment commitments"),
        CommitmentWrite => ("commitment:write", "开立、拆转、贴现与兑付债权凭证", "Issue, split, transfer, discount and settle payment commitments"),
    }
);

/// Parses a comma- or space-separated list of codes, refusing unknown ones and duplicates silently merged.
pub fn parse_list<T: Copy + Ord>(
    input: &str,
    parse: impl Fn(&str) -> Result<T, crate::labelled::UnknownCode>,
) -> Result<Vec<T>, crate::labelled::UnknownCode> {
    let mut out: Vec<T> = input
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect::<Result<_, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

pub fn join_codes<T: Copy>(items: &[T], code: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|&i| code(i)).collect::<Vec<_>>().join(",")
}
