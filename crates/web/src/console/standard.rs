//! The data standard as a page: each record type's fields with their Chinese and English names, whether
//! they are required, how a value is written and the column headers recognised on upload, with the CSV
//! and XLSX templates (the same files the API serves).

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lianrong_domain::trade::header::aliases;
use lianrong_domain::trade::{Presence, RecordType, STANDARD_VERSION};

use super::ctx::Ctx;
use super::page::{Ui, render};

pub struct FieldView {
    pub code: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub required: bool,
    pub format: &'static str,
    pub aliases: String,
}

pub struct TypeView {
    pub code: &'static str,
    pub label: &'static str,
    pub fields: Vec<FieldView>,
}

fn type_view(rt: RecordType, lang_en: bool) -> TypeView {
    TypeView {
        code: rt.code(),
        label: rt.label(lang_en),
        fields: rt
            .fields()
            .map(|(f, p)| {
                let (format_en, format_zh) = f.format_hint();
                FieldView {
                    code: f.code(),
                    label_zh: f.label_zh(),
                    label_en: f.label_en(),
                    required: p == Presence::Required,
                    format: if lang_en { format_en } else { format_zh },
                    aliases: aliases(f).join(" · "),
                }
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "standard.html")]
struct StandardPage {
    ui: Ui,
    tab: &'static str,
    version: &'static str,
    types: Vec<TypeView>,
}

pub async fn page(ctx: Ctx) -> Response {
    let lang = ctx.lang_en();
    let view = StandardPage {
        ui: ctx.ui("submissions"),
        tab: "standard",
        version: STANDARD_VERSION,
        types: RecordType::ALL.iter().map(|&rt| type_view(rt, lang)).collect(),
    };
    render(StatusCode::OK, &view)
}

/// `/standard/templates/invoice.csv`, `…/invoice.xlsx`: a download; any other name is the not-found page.
pub async fn template(ctx: Ctx, Path(name): Path<String>) -> Response {
    match crate::download::template_file(&name) {
        Ok(file) => file.into_response(),
        Err(e) => ctx.fail(&e),
    }
}
