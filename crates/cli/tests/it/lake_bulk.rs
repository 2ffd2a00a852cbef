//! The lake's bulk path: a large upload is staged batch by batch in short transactions, so another
//! organisation is answered while it is written; its records become current all at once at its end, or
//! not at all, and nothing it staged is left behind.

use std::io::Write;

use lianrong_app::{Actor, App};
use lianrong_domain::org::OrgKind;
use lianrong_domain::role::Role;
use lianrong_domain::submission::Channel;
use lianrong_store::StoreError;
use lianrong_store::trade::stage::{self, StagedRow};

use crate::common::{code, einvoice, platform, ymd};

/// Rows of the large upload: several of the writer's batches, so that it stages in several transactions.
const UPLOAD_ROWS: u64 = 6_000;

async fn org(app: &App, n: u32, kind: &str) -> Actor {
    let o = lianrong_app::org::create(
        app,
        &Actor::system("system"),
        lianrong_app::org::NewOrg {
            uscc: code(n),
            name: format!("测试组织{n}"),
            kind: kind.into(),
            size_class: "large".into(),
            region_code: None,
        },
    )
    .await
    .unwrap();
    Actor {
        org_id: o.id,
        org_kind: if kind == "core" { OrgKind::Core } else { OrgKind::Supplier },
        org_name: o.name,
        system: false,
        roles: vec![Role::OrgAdmin],
        login: Some(format!("admin{n}")),
        ..Actor::system("system")
    }
}

/// A CSV of `rows` invoices from supplier 101 to core 100, in a fresh folder.
fn invoices_file(rows: u64) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("lianrong-tests").join(lianrong_app::new_id());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("invoices.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(w, "发票号码,开票日期,销方统一社会信用代码,购方统一社会信用代码,金额,税额,价税合计").unwrap();
    for i in 0..rows {
        writeln!(w, "{},{},{},{},1000.00,130.00,1130.00", einvoice(-30, 10_000 + i), ymd(-30), code(101), code(100))
            .unwrap();
    }
    w.flush().unwrap();
    path
}

/// The submission's current records and its staged ones, read in one statement (one snapshot).
async fn visible_and_staged(app: &App, submission_id: &str) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM trade_record WHERE submission_id = $1), \
         (SELECT COUNT(*) FROM trade_record_stage WHERE submission_id = $1)",
    )
    .bind(submission_id.to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn another_organisation_is_answered_while_a_large_upload_is_written_and_it_lands_all_at_once() {
    let app = platform().await;
    let core = org(&app, 100, "core").await;
    org(&app, 101, "supplier").await;
    let other = org(&app, 102, "supplier").await;
    let path = invoices_file(UPLOAD_ROWS);
    let received =
        lianrong_app::submission::receive_path(&app, &core, Channel::Upload, "invoices.csv", &path).await.unwrap();
    let id = received.id().to_string();
    let upload = tokio::spawn({
        let (app, core, path) = (app.clone(), core.clone(), path.clone());
        async move { lianrong_app::submission::process_path(&app, &core, received, "invoices.csv", &path).await }
    });

    // A watcher reads the submission's records as often as it can: reads never wait for writers, so it
    // sees the staged-but-not-visible window however the writers are scheduled on a loaded machine.
    let watcher = tokio::spawn({
        let (app, id) = (app.clone(), id.clone());
        async move {
            let mut seen_staged_unseen = false;
            loop {
                let (visible, staged) = visible_and_staged(&app, &id).await;
                assert!(visible == 0 || visible == UPLOAD_ROWS as i64, "all of the upload or none of it: {visible}");
                seen_staged_unseen |= visible == 0 && staged > 0;
                if visible == UPLOAD_ROWS as i64 && staged == 0 {
                    return seen_staged_unseen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    });
    let (mut answered_meanwhile, mut serial) = (0, 0);
    while !upload.is_finished() {
        serial += 1;
        let record = serde_json::json!({
            "record_type": "invoice", "invoice_no": einvoice(-1, serial), "issue_date": ymd(-1),
            "seller_uscc": code(102), "buyer_uscc": code(100), "total_amount": "1130.00",
        });
        let raw = serde_json::to_vec(&[&record]).unwrap();
        let records = record.as_object().cloned().into_iter().collect();
        let report = lianrong_app::submission::submit_records(&app, &other, raw, "erp", records).await.unwrap();
        assert_eq!(report.accepted, 1, "{:?}", report.row_errors);
        if !upload.is_finished() {
            answered_meanwhile += 1;
        }
    }
    let report = upload.await.unwrap().unwrap();
    assert_eq!((report.accepted, report.rejected), (UPLOAD_ROWS, 0), "{:?}", report.row_errors);
    assert!(answered_meanwhile > 0, "another organisation's submission waited for the whole upload");
    let seen_staged_unseen = tokio::time::timeout(std::time::Duration::from_secs(60), watcher)
        .await
        .expect("the watcher sees the upload land")
        .expect("the watcher's reads");
    assert!(seen_staged_unseen, "the upload's records were staged before they became visible");
    assert_eq!(visible_and_staged(&app, &id).await, (UPLOAD_ROWS as i64, 0), "all current, nothing left staged");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test]
async fn staged_records_that_meet_a_conflict_become_visible_not_even_in_part_and_are_discarded() {
    let app = platform().await;
    org(&app, 100, "core").await;
    let supplier = org(&app, 101, "supplier").await;
    let record = serde_json::json!({
        "record_type": "invoice", "invoice_no": einvoice(-3, 1), "issue_date": ymd(-3),
        "seller_uscc": code(101), "buyer_uscc": code(100), "total_amount": "1130.00",
    });
    let raw = serde_json::to_vec(&[&record]).unwrap();
    let records = record.as_object().cloned().into_iter().collect();
    lianrong_app::submission::submit_records(&app, &supplier, raw, "erp", records).await.unwrap();
    let id: String = sqlx::query_scalar("SELECT id FROM trade_record").fetch_one(&app.db.pool).await.unwrap();
    let committed =
        lianrong_store::trade::current(&mut app.db.acquire().await.unwrap(), &[id.as_str()]).await.unwrap().remove(0);

    // A submission stages a new record and one whose natural key another submission has since written.
    let staged_as = |natural_key: &str| StagedRow {
        row: lianrong_store::trade::TradeRow {
            id: lianrong_app::new_id(),
            natural_key: natural_key.to_string(),
            submission_id: "staging-test".into(),
            ..committed.clone()
        },
        prior_version: None,
    };
    let fresh = staged_as("invoice|fresh");
    stage::stage(&app.db, &[fresh.clone(), staged_as(&committed.natural_key)]).await.unwrap();
    assert_eq!(visible_and_staged(&app, "staging-test").await, (0, 2), "staged, not visible");

    let mut tx = app.db.begin_write().await.unwrap();
    let merged = stage::merge_new(&mut tx, "staging-test").await;
    assert!(matches!(merged, Err(StoreError::Conflict { .. })), "{merged:?}");
    drop(tx);
    stage::discard_stage(&app.db, "staging-test").await.unwrap();
    assert_eq!(visible_and_staged(&app, "staging-test").await, (0, 0), "nothing visible, nothing left staged");

    // Without the conflicting record the same stage becomes current.
    stage::stage(&app.db, &[fresh]).await.unwrap();
    let mut tx = app.db.begin_write().await.unwrap();
    assert_eq!(stage::merge_new(&mut tx, "staging-test").await.unwrap(), 1);
    tx.commit().await.unwrap();
    stage::discard_stage(&app.db, "staging-test").await.unwrap();
    assert_eq!(visible_and_staged(&app, "staging-test").await, (1, 0));
}
