//! Organisations: every party on the platform is an organisation identified by its credit code.

use std::borrow::Cow;

use crate::labelled_enum;
use crate::refusal::Refusal;

labelled_enum!(
    /// What kind of party an organisation is; it decides what its users may do.
    OrgKind, "kind" {
        Operator => ("operator", "平台运营方", "Programme operator"),
        Core => ("core", "核心企业", "Core enterprise"),
        Supplier => ("supplier", "供应商", "Supplier"),
        Bank => ("bank", "银行", "Bank"),
        ServiceInstitution => ("service_institution", "供应链金融服务机构", "SCF service institution"),
        Regulator => ("regulator", "监管机构", "Regulator"),
    }
);

labelled_enum!(
    /// Enterprise size class (大型/中型/小型/微型, per the national SME classification).
    SizeClass, "size_class" {
        Large => ("large", "大型", "Large"),
        Medium => ("medium", "中型", "Medium"),
        Small => ("small", "小型", "Small"),
        Micro => ("micro", "微型", "Micro"),
    }
);

impl SizeClass {
    /// Medium, small and micro enterprises are SMEs under the SME payment regulation.
    pub fn is_sme(self) -> bool {
        !matches!(self, SizeClass::Large)
    }
}

/// The 6-digit administrative division code (GB/T 2260) where an organisation is registered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RegionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("region_code must be the 6-digit administrative division code (GB/T 2260), got '{0}'")]
pub struct RegionCodeError(pub String);

impl Refusal for RegionCodeError {
    fn code(&self) -> &'static str {
        "invalid_region_code"
    }

    fn field(&self) -> Option<Cow<'static, str>> {
        Some(Cow::Borrowed("region_code"))
    }

    fn zh(&self) -> String {
        format!("注册地行政区划码须为6位数字（GB/T 2260），收到“{}”", self.0)
    }
}

impl RegionCode {
    pub fn parse(input: &str) -> Result<RegionCode, RegionCodeError> {
        let s = input.trim();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) && &s[..2] != "00" {
            Ok(RegionCode(s.to_string()))
        } else {
            Err(RegionCodeError(s.chars().take(20).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl OrgKind {
    /// Whether the kind of organisation can declare this role in an industry chain.
    pub fn can_hold_member_role(self, role: crate::chain::MemberRole) -> bool {
        use crate::chain::MemberRole as R;
        matches!(
            (self, role),
            (OrgKind::Core, R::Core)
                | (OrgKind::Core, R::Supplier)
                | (OrgKind::Supplier, R::Supplier)
                | (OrgKind::Bank, R::Bank)
                | (OrgKind::ServiceInstitution, R::ServiceInstitution)
        )
    }
}
