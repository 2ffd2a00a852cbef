//! The demo world: a deterministic programme from a seed — the operator, a regulator, four to six banks,
//! three pilot chains from the trillion-level clusters with one or two cores each and 150–300 suppliers
//! over three tiers — built through the same use cases a real operator would call. This module builds the
//! organisations and people; `trade` gives each chain a year of trade through the three channels,
//! `credit` the first chain's confirmations (asked, signed, rejected, pending) and registrations,
//! `commitment` a bank's line to a core, a commitment travelling to tier 3, every bank's products and a
//! discount application waiting at the bank. Each is loaded after the one before, by the `demo` command and the tests.

pub mod commitment;
pub mod credit;
pub mod trade;

use lianrong_domain::uscc::{CHARSET, Uscc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::{App, chain, core_library, org, user};

/// Every demo login uses this password; it is printed by `lianrong demo`.
pub const DEMO_PASSWORD: &str = "Lianrong#2026";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub kind: lianrong_domain::org::OrgKind,
    pub login: String,
    pub org_name: String,
    pub role: lianrong_domain::role::Role,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoWorld {
    pub logins: Vec<DemoLogin>,
    pub chains: usize,
    pub cores: usize,
    pub suppliers: usize,
    pub banks: usize,
}

struct ChainPlan {
    cluster_id: &'static str,
    name: &'static str,
    cores: &'static [&'static str],
    trades: &'static [&'static str],
}

const CHAINS: &[ChainPlan] = &[
    ChainPlan {
        cluster_id: "nev",
        name: "智能网联新能源汽车产业链",
        cores: &["渝安智行汽车股份有限公司", "巴渝新能源汽车集团有限公司"],
        trades: &[
            "汽车零部件",
            "动力电池",
            "电机电控",
            "汽车电子",
            "精密铸造",
            "橡胶制品",
            "汽车线束",
            "座椅系统",
            "模具",
            "紧固件",
            "热管理系统",
            "车灯",
        ],
    },
    ChainPlan {
        cluster_id: "electronics",
        name: "新一代电子信息制造业产业链",
        cores: &["重庆西永智能终端股份有限公司", "嘉陵微电子集团有限公司"],
        trades: &[
            "电子科技",
            "光电",
            "半导体",
            "显示技术",
            "电路板",
            "连接器",
            "精密电子",
            "包装材料",
            "注塑",
            "结构件",
            "电源",
            "声学器件",
        ],
    },
    ChainPlan {
        cluster_id: "advanced_materials",
        name: "先进材料产业链",
        cores: &["山城铝业股份有限公司"],
        trades: &[
            "新材料",
            "铝型材",
            "化工",
            "复合材料",
            "玻纤",
            "特钢",
            "合金",
            "涂料",
            "碳材料",
            "耐火材料",
            "冶金辅料",
            "工业气体",
        ],
    },
];

const PLACES: &[&str] = &[
    "重庆",
    "渝北",
    "两江",
    "璧山",
    "永川",
    "綦江",
    "涪陵",
    "长寿",
    "江津",
    "合川",
    "巴南",
    "九龙坡",
    "沙坪坝",
    "南岸",
    "铜梁",
    "大足",
];
const WORDS: &[&str] = &[
    "宏达", "华盛", "鑫源", "恒通", "瑞丰", "博远", "天成", "金诚", "嘉禾", "盛泰", "中联", "旭日", "远航", "精工",
    "智联", "鼎盛", "兴隆", "永安", "福瑞", "凯峰", "正和", "海纳", "三峡", "巴山", "渝丰", "长江", "锦程", "华通",
    "德润", "新宇", "启明", "弘毅", "昌荣", "汇川", "立信", "东方",
];
const FORMS: &[&str] = &["有限公司", "有限责任公司", "科技有限公司"];
const DISTRICTS: &[&str] = &[
    "500112", "500106", "500107", "500113", "500120", "500118", "500110", "500102", "500115", "500116", "500117",
    "500105", "500108", "500151", "500111",
];
const BANKS: &[&str] = &[
    "渝州银行",
    "长江商业银行重庆分行",
    "巴渝农村商业银行",
    "西部产业发展银行重庆分行",
    "山城银行",
    "嘉陵江银行重庆分行",
];

/// Builds credit codes that are unique within the world and verify.
struct CodeMaker {
    used: HashSet<String>,
}

impl CodeMaker {
    fn make(&mut self, rng: &mut ChaCha8Rng, head: &str, region: &str) -> String {
        loop {
            let body: String = (0..7).map(|_| CHARSET[rng.random_range(0..CHARSET.len())] as char).collect();
            let first17 = format!("{head}{region}MA{body}");
            if let Some(code) = Uscc::with_check_char(&first17)
                && self.used.insert(code.to_string())
            {
                return code.to_string();
            }
        }
    }
}

fn supplier_name(rng: &mut ChaCha8Rng, trades: &[&str], used: &mut HashSet<String>) -> String {
    loop {
        let place = PLACES.choose(rng).copied().unwrap_or("重庆");
        let word = WORDS.choose(rng).copied().unwrap_or("宏达");
        let trade = trades.choose(rng).copied().unwrap_or("科技");
        let form = FORMS.choose(rng).copied().unwrap_or("有限公司");
        let form = if form == "科技有限公司" && trade.ends_with("科技") { "有限公司" } else { form };
        let name = format!("{place}{word}{trade}{form}");
        if used.insert(name.clone()) {
            return name;
        }
    }
}

/// One step of the world, so that progress is honest: the total is known before the first write.
enum Step {
    Org { key: String, kind: &'static str, size: &'static str, name: String, uscc: String },
    User { org_key: String, login: String, name: String, role: lianrong_domain::role::Role },
    Chain { index: usize },
    Member { chain: usize, org_key: String, role: &'static str, tier: Option<i64> },
    Apply { org_key: String, cluster: &'static str, reason: String },
    Admit { org_key: String },
}

fn plan(seed: u64) -> Vec<Step> {
    use lianrong_domain::role::Role;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut codes = CodeMaker { used: HashSet::new() };
    let mut names = HashSet::new();
    let mut steps = Vec::new();
    let user = |org_key: &str, login: &str, name: &str, role: Role| Step::User {
        org_key: org_key.into(),
        login: login.into(),
        name: name.into(),
        role,
    };

    steps.push(Step::Org {
        key: "operator".into(),
        kind: "operator",
        size: "large",
        name: "重庆市产业链供应链金融服务平台运营中心（演示）".into(),
        uscc: codes.make(&mut rng, "12", "500000"),
    });
    steps.push(user("operator", "operator", "平台管理员", Role::OrgAdmin));
    steps.push(user("operator", "operator.staff", "运营专员", Role::OperatorStaff));
    steps.push(Step::Org {
        key: "regulator".into(),
        kind: "regulator",
        size: "large",
        name: "重庆市地方金融监管局（演示）".into(),
        uscc: codes.make(&mut rng, "11", "500000"),
    });
    steps.push(user("regulator", "regulator", "监管人员", Role::Auditor));

    let bank_count = rng.random_range(4..=6usize);
    for (i, bank) in BANKS.iter().take(bank_count).enumerate() {
        let key = format!("bank{}", i + 1);
        let region = DISTRICTS.choose(&mut rng).copied().unwrap_or("500112");
        steps.push(Step::Org {
            key: key.clone(),
            kind: "bank",
            size: "large",
            name: (*bank).to_string(),
            uscc: codes.make(&mut rng, "91", region),
        });
        steps.push(user(&key, &format!("{key}.admin"), "银行管理员", Role::OrgAdmin));
        steps.push(user(&key, &format!("{key}.officer"), "客户经理", Role::BankOfficer));
        steps.push(user(&key, &format!("{key}.approver"), "审批人", Role::BankApprover));
    }

    let supplier_total = rng.random_range(150..=300usize);
    for (ci, plan) in CHAINS.iter().enumerate() {
        steps.push(Step::Chain { index: ci });
        for (k, core) in plan.cores.iter().enumerate() {
            let key = format!("core{}{}", ci + 1, k + 1);
            let region = DISTRICTS.choose(&mut rng).copied().unwrap_or("500112");
            names.insert((*core).to_string());
            steps.push(Step::Org {
                key: key.clone(),
                kind: "core",
                size: "large",
                name: (*core).to_string(),
                uscc: codes.make(&mut rng, "91", region),
            });
            steps.push(user(&key, &format!("{key}.admin"), "财务总监", Role::OrgAdmin));
            steps.push(user(&key, &format!("{key}.finance"), "应付会计", Role::FinanceStaff));
            steps.push(Step::Member { chain: ci, org_key: key.clone(), role: "core", tier: None });
            steps.push(Step::Apply {
                org_key: key.clone(),
                cluster: plan.cluster_id,
                reason: "链主企业，申请纳入核心企业库".into(),
            });
            // The second core of the electronics chain is left waiting, so the operator has an application to decide.
            if !(ci == 1 && k == 1) {
                steps.push(Step::Admit { org_key: key });
            }
        }
        let share = supplier_total / CHAINS.len() + usize::from(ci < supplier_total % CHAINS.len());
        for s in 0..share {
            // About 20 % tier 1, 35 % tier 2, 45 % tier 3.
            let tier: i64 = match s * 100 / share.max(1) {
                0..20 => 1,
                20..55 => 2,
                _ => 3,
            };
            let size = match (tier, rng.random_range(0..10)) {
                (1, 0..3) => "large",
                (1, _) | (2, 0..4) => "medium",
                (3, 0..4) => "micro",
                _ => "small",
            };
            let key = format!("sup{}_{}", ci + 1, s + 1);
            let region = DISTRICTS.choose(&mut rng).copied().unwrap_or("500112");
            let name = supplier_name(&mut rng, plan.trades, &mut names);
            steps.push(Step::Org {
                key: key.clone(),
                kind: "supplier",
                size,
                name,
                uscc: codes.make(&mut rng, "91", region),
            });
            steps.push(Step::Member { chain: ci, org_key: key.clone(), role: "supplier", tier: Some(tier) });
            // The first supplier of each tier gets logins, so every tier can be tried in the console.
            if s == 0
                || tier
                    != match (s - 1) * 100 / share.max(1) {
                        0..20 => 1,
                        20..55 => 2,
                        _ => 3,
                    }
            {
                steps.push(user(&key, &format!("sup{}.t{tier}", ci + 1), "财务经理", Role::OrgAdmin));
            }
            if tier == 1 && s == 1 {
                steps.push(Step::Apply {
                    org_key: key,
                    cluster: plan.cluster_id,
                    reason: "重点配套企业，申请入库".into(),
                });
            }
        }
    }
    let bank_keys: Vec<String> = (1..=bank_count).map(|i| format!("bank{i}")).collect();
    for ci in 0..CHAINS.len() {
        let n = rng.random_range(2..=bank_count.min(4));
        for key in bank_keys.choose_multiple(&mut rng, n) {
            steps.push(Step::Member { chain: ci, org_key: key.clone(), role: "bank", tier: None });
        }
    }
    steps
}

/// Builds the world into an empty database. `progress(done, total)` is called after every step.
pub async fn build(app: &App, seed: u64, progress: &(dyn Fn(u64, u64) + Sync)) -> AppResult<DemoWorld> {
    use std::collections::HashMap;
    let steps = plan(seed);
    let total = steps.len() as u64;
    let system = Actor::system("system");
    let mut orgs: HashMap<String, (String, lianrong_domain::org::OrgKind, String)> = HashMap::new();
    let mut chain_ids: Vec<String> = Vec::new();
    let mut entries: HashMap<String, String> = HashMap::new();
    let mut world = DemoWorld::default();
    let missing = |what: &str| {
        tracing::error!(what, "demo plan refers to something not yet built");
        AppError::internal()
    };
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Org { key, kind, size, name, uscc } => {
                let rec = org::create(
                    app,
                    &system,
                    org::NewOrg {
                        uscc: uscc.clone(),
                        name: name.clone(),
                        kind: (*kind).into(),
                        size_class: (*size).into(),
                        region_code: None,
                    },
                )
                .await?;
                match rec.kind {
                    lianrong_domain::org::OrgKind::Core => world.cores += 1,
                    lianrong_domain::org::OrgKind::Supplier => world.suppliers += 1,
                    lianrong_domain::org::OrgKind::Bank => world.banks += 1,
                    _ => {}
                }
                orgs.insert(key.clone(), (rec.id, rec.kind, rec.name));
            }
            Step::User { org_key, login, name, role } => {
                let (org_id, kind, org_name) = orgs.get(org_key).ok_or_else(|| missing(org_key))?;
                user::create(
                    app,
                    &system,
                    user::NewUser {
                        org_id: org_id.clone(),
                        login: login.clone(),
                        display_name: name.clone(),
                        password: DEMO_PASSWORD.into(),
                        roles: vec![role.code().into()],
                    },
                )
                .await?;
                world.logins.push(DemoLogin {
                    kind: *kind,
                    login: login.clone(),
                    org_name: org_name.clone(),
                    role: *role,
                });
            }
            Step::Chain { index } => {
                let plan = &CHAINS[*index];
                let rec = chain::create(app, &system, plan.name, plan.cluster_id, true).await?;
                chain_ids.push(rec.id);
                world.chains += 1;
            }
            Step::Member { chain: ci, org_key, role, tier } => {
                let (org_id, ..) = orgs.get(org_key).ok_or_else(|| missing(org_key))?;
                let chain_id = chain_ids.get(*ci).ok_or_else(|| missing("chain"))?;
                chain::add_member(app, &system, chain_id, org_id, role, *tier).await?;
            }
            Step::Apply { org_key, cluster, reason } => {
                let (org_id, ..) = orgs.get(org_key).ok_or_else(|| missing(org_key))?;
                let entry = core_library::apply(app, &system, org_id, cluster, reason).await?;
                entries.insert(org_key.clone(), entry.id);
            }
            Step::Admit { org_key } => {
                let entry_id = entries.get(org_key).ok_or_else(|| missing(org_key))?;
                core_library::transition(app, &system, entry_id, "admit", Some("经审核，符合入库条件")).await?;
            }
        }
        progress(i as u64 + 1, total);
    }
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_deterministic_and_in_bounds() {
        let count = |steps: &[Step], k: &str| {
            steps.iter().filter(|s| matches!(s, Step::Org { kind, .. } if *kind == k)).count()
        };
        for seed in [1u64, 7, 2026, u64::MAX] {
            let a = plan(seed);
            let b = plan(seed);
            assert_eq!(a.len(), b.len());
            let suppliers = count(&a, "supplier");
            assert!((150..=300).contains(&suppliers), "{suppliers}");
            assert!((4..=6).contains(&count(&a, "bank")));
            assert_eq!(count(&a, "core"), 5);
            for s in &a {
                if let Step::Org { uscc, .. } = s {
                    assert!(Uscc::parse(uscc).is_ok(), "{uscc}");
                }
            }
        }
        let names = |steps: &[Step]| {
            steps
                .iter()
                .filter_map(|s| if let Step::Org { name, .. } = s { Some(name.clone()) } else { None })
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&plan(42)), names(&plan(42)));
        assert_ne!(names(&plan(42)), names(&plan(43)));
    }
}
