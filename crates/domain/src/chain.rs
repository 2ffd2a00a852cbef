//! Industry chains: one per cluster product line, with members and their declared role.

use crate::labelled_enum;

labelled_enum!(
    /// The role an organisation declares when it joins a chain.
    MemberRole, "role" {
        Core => ("core", "链主/核心企业", "Core enterprise"),
        Supplier => ("supplier", "配套供应商", "Supplier"),
        Bank => ("bank", "合作银行", "Partner bank"),
        ServiceInstitution => ("service_institution", "服务机构", "Service institution"),
    }
);
