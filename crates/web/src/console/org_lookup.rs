//! Organisations as other pages look them up: one found by the credit code a form asks for, and names
//! for tables that show who did something. The directory's pages (`org`) show a chain's membership and so
//! sit above `chain`; the chain's form looks organisations up here, so neither imports the other.

use std::collections::HashMap;

use lianrong_app::org::{OrgFilter, OrgRecord};
use lianrong_app::{Actor, AppError, AppResult, org};
use lianrong_domain::page::PageRequest;

use crate::state::AppState;

/// An organisation the actor may see, found by its exact credit code (forms ask for the code, which
/// people have at hand, rather than our internal id).
pub(super) async fn find_by_uscc(state: &AppState, actor: &Actor, uscc: &str) -> AppResult<OrgRecord> {
    let code = uscc.trim().to_uppercase();
    if code.is_empty() {
        return Err(AppError::invalid(
            "uscc",
            "uscc_required",
            "Enter the organisation's credit code",
            "请填写机构的统一社会信用代码",
        ));
    }
    let filter = OrgFilter { kind: None, query: Some(code.clone()) };
    let page = org::list(&state.app, actor, filter, PageRequest::first()).await?;
    page.items.into_iter().find(|o| o.uscc == code).ok_or_else(|| {
        AppError::invalid(
            "uscc",
            "unknown_organisation",
            format!("No organisation with credit code {code} is registered, or it is not visible to you"),
            format!("未找到统一社会信用代码为{code}的机构，或您无权查看"),
        )
    })
}

/// Organisation names looked up once per page, for tables that show who did something. An
/// organisation the actor may not see has no name here.
#[derive(Default)]
pub(super) struct OrgNames {
    known: HashMap<String, Option<String>>,
}

impl OrgNames {
    pub(super) async fn name(&mut self, state: &AppState, actor: &Actor, id: &str) -> Option<String> {
        if let Some(known) = self.known.get(id) {
            return known.clone();
        }
        let name = org::get(&state.app, actor, id).await.ok().map(|o| o.name);
        self.known.insert(id.to_string(), name.clone());
        name
    }
}
