//! The city's "33618" cluster system (docs/domain-rules.md, "The 33618 cluster system"): 3 trillion-level, 3
//! five-hundred-billion-level, 6 hundred-billion-level and 18 "new star" clusters. The lists are seed data
//! that the operator edits in the database; only the first tier is fully verified, so every seed row carries
//! a `verified` flag.

use crate::labelled_enum;

labelled_enum!(
    ClusterTier, "tier" {
        Trillion => ("trillion", "万亿级主导产业集群", "Trillion-level leading cluster"),
        FiveHundredBillion => ("five_hundred_billion", "五千亿级支柱产业集群", "500-billion-level pillar cluster"),
        HundredBillion => ("hundred_billion", "千亿级特色优势产业集群", "100-billion-level specialty cluster"),
        NewStar => ("new_star", "“新星”产业集群", "\"New star\" cluster"),
    }
);

/// One row of the seed list: stable id, tier, names, and whether a retrieved source confirmed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSeed {
    pub id: &'static str,
    pub tier: ClusterTier,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub verified: bool,
}

const fn seed(
    id: &'static str,
    tier: ClusterTier,
    name_zh: &'static str,
    name_en: &'static str,
    verified: bool,
) -> ClusterSeed {
    ClusterSeed { id, tier, name_zh, name_en, verified }
}

use ClusterTier::{FiveHundredBillion as F, HundredBillion as H, NewStar as N, Trillion as T};

/// The seed list, loaded into the `cluster` table on first start-up; `verified` says whether a source
/// confirms the row (docs/domain-rules.md, "The 33618 cluster system").
pub const SEED: &[ClusterSeed] = &[
    seed("nev", T, "智能网联新能源汽车", "Intelligent connected new-energy vehicles", true),
    seed("electronics", T, "新一代电子信息制造业", "New-generation electronic information manufacturing", true),
    seed("advanced_materials", T, "先进材料", "Advanced materials", true),
    seed("intelligent_equipment", F, "智能装备及智能制造", "Intelligent equipment and manufacturing", true),
    seed("food_processing", F, "食品及农产品加工", "Food and agricultural product processing", true),
    seed("software_services", F, "软件信息服务", "Software and information services", false),
    seed("new_display", H, "新型显示", "New display", false),
    seed("motorcycles", H, "高端摩托车", "High-end motorcycles", false),
    seed("light_alloys", H, "轻合金材料", "Light alloy materials", false),
    seed("light_textiles", H, "轻纺", "Light industry and textiles", false),
    seed("biomedicine", H, "生物医药", "Biomedicine", false),
    seed("new_energy_storage", H, "新能源及新型储能", "New energy and energy storage", false),
    seed("power_semiconductors", N, "功率半导体及集成电路", "Power semiconductors and ICs", false),
    seed("ai_robotics", N, "AI及机器人", "AI and robotics", false),
    seed("servers", N, "服务器", "Servers", false),
    seed("smart_home", N, "智能家居", "Smart home", false),
    seed("sensors_instruments", N, "传感器及仪器仪表", "Sensors and instruments", false),
    seed("smart_manufacturing_equipment", N, "智能制造装备", "Smart manufacturing equipment", false),
    seed("power_equipment", N, "动力装备", "Power equipment", false),
    seed("agricultural_machinery", N, "农机装备", "Agricultural machinery", false),
    seed("fibre_composites", N, "纤维及复合材料", "Fibres and composites", false),
    seed("synthetic_materials", N, "合成材料", "Synthetic materials", false),
    seed("modern_tcm", N, "现代中药", "Modern traditional Chinese medicine", false),
    seed("medical_devices", N, "医疗器械", "Medical devices", false),
    seed("medical_aesthetics", N, "医疗美容", "Medical aesthetics", false),
    seed("sauce_liquor", N, "酱酒", "Sauce-aroma liquor", false),
    seed("prepared_dishes", N, "预制菜", "Prepared dishes", false),
    seed("biomanufacturing", N, "生物制造", "Biomanufacturing", false),
    seed("satellite_internet", N, "卫星互联网", "Satellite internet", false),
    seed("metaverse", N, "元宇宙", "Metaverse", false),
];

/// Cluster ids are short lowercase slugs so that they read well in URLs and Parquet partitions.
pub fn parse_id(input: &str) -> Result<String, crate::text::TextError> {
    let s = crate::text::bounded("id", input, 40)?;
    if s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        Ok(s)
    } else {
        Err(crate::text::TextError::Control { field: "id" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_has_the_33618_shape() {
        let count = |t| SEED.iter().filter(|s| s.tier == t).count();
        assert_eq!((count(T), count(F), count(H), count(N)), (3, 3, 6, 18));
        let mut ids: Vec<_> = SEED.iter().map(|s| s.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 30);
        assert!(SEED.iter().filter(|s| s.tier == T).all(|s| s.verified));
    }
}
