use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use lianrong_lake::{Lake, PartitionKey};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub fn invoice_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("invoice_no", DataType::Utf8, false),
        Field::new("seller", DataType::Utf8, false),
        Field::new("amount_fen", DataType::Int64, false),
    ]))
}

/// `rows` invoices in batches of `batch_rows`, amounts 1..=rows fen.
pub fn invoice_batches(
    schema: &SchemaRef,
    rows: usize,
    batch_rows: usize,
) -> impl Iterator<Item = RecordBatch> + use<> {
    let schema = schema.clone();
    (0..rows).step_by(batch_rows.max(1)).map(move |start| {
        let end = (start + batch_rows).min(rows);
        let numbers: StringArray = (start..end).map(|i| Some(format!("{i:08}"))).collect();
        let sellers: StringArray = (start..end).map(|i| Some(if i % 2 == 0 { "重庆长安" } else { "赛力斯" })).collect();
        let amounts: Int64Array = (start..end).map(|i| i as i64 + 1).collect();
        RecordBatch::try_new(schema.clone(), vec![Arc::new(numbers), Arc::new(sellers), Arc::new(amounts)]).unwrap()
    })
}

fn read_file(path: &std::path::Path) -> (usize, i64) {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let mut rows = 0;
    let mut total = 0;
    for batch in reader {
        let batch = batch.unwrap();
        rows += batch.num_rows();
        let amounts = batch.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
        total += amounts.iter().map(|v| v.unwrap()).sum::<i64>();
    }
    (rows, total)
}

#[tokio::test]
async fn partitions_round_trip_and_are_replaced_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let curated = lake.curated();
    let schema = invoice_schema();
    let november = PartitionKey::new("invoice", "chain-1", "2026-11").unwrap();
    let written =
        curated.write_partition(&november, schema.clone(), invoice_batches(&schema, 300_000, 8192)).await.unwrap();
    assert_eq!(written.rows, Some(300_000));
    assert_eq!(written.path, "curated/record=invoice/chain=chain-1/month=2026-11/data.parquet");
    let on_disk = dir.path().join(&written.path);
    assert_eq!(std::fs::metadata(&on_disk).unwrap().len(), written.bytes);
    assert_eq!(read_file(&on_disk), (300_000, 300_000 * 300_001 / 2), "row count and total fen survive");

    let december = PartitionKey::new("invoice", "chain-1", "2026-12").unwrap();
    curated.write_partition(&december, schema.clone(), invoice_batches(&schema, 10, 4)).await.unwrap();
    let orders = PartitionKey::new("order", "chain-2", "2026-11").unwrap();
    curated.write_partition(&orders, schema.clone(), std::iter::empty()).await.unwrap();

    let listed = curated.list_partitions(None).await.unwrap();
    let keys: Vec<_> = listed.iter().map(|p| p.key.clone()).collect();
    assert_eq!(keys, vec![november.clone(), december.clone(), orders.clone()]);
    assert_eq!(curated.list_partitions(Some("order")).await.unwrap().len(), 1);

    curated.write_partition(&november, schema.clone(), invoice_batches(&schema, 5, 5)).await.unwrap();
    assert_eq!(read_file(&on_disk), (5, 15), "rewriting replaces the partition");
    let batches = curated.read_partition(&november).await.unwrap();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 5);
    let sellers = batches[0].column(1).as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(sellers.value(0), "重庆长安");
    assert!(!sellers.is_null(0));
}

#[tokio::test]
async fn a_batch_of_another_schema_leaves_the_old_file_in_place() {
    let lake = Lake::in_memory();
    let curated = lake.curated();
    let schema = invoice_schema();
    let key = PartitionKey::new("invoice", "c", "2026-11").unwrap();
    curated.write_partition(&key, schema.clone(), invoice_batches(&schema, 3, 3)).await.unwrap();
    let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let wrong = RecordBatch::try_new(other, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
    let good = invoice_batches(&schema, 2, 2).next().unwrap();
    let err = curated.write_partition(&key, schema.clone(), vec![good, wrong]).await.unwrap_err();
    assert_eq!(err.code(), "schema_mismatch");
    let batches = curated.read_partition(&key).await.unwrap();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
}

#[tokio::test]
async fn unsafe_partition_values_never_reach_a_path() {
    let curated = Lake::in_memory().curated();
    let schema = invoice_schema();
    let sneaky = PartitionKey { record: "invoice".into(), chain: "../../raw".into(), month: "2026-11".into() };
    let err = curated.write_partition(&sneaky, schema.clone(), std::iter::empty()).await.unwrap_err();
    assert_eq!(err.code(), "partition_invalid");
    assert_eq!(curated.list_partitions(Some("../x")).await.unwrap_err().code(), "partition_invalid");
}

#[tokio::test]
async fn writes_run_on_spawned_tasks() {
    let lake = Lake::in_memory();
    let schema = invoice_schema();
    let curated = lake.curated();
    let key = PartitionKey::new("invoice", "spawned", "2026-11").unwrap();
    let batches = invoice_batches(&schema, 1000, 100);
    let written =
        tokio::spawn(async move { curated.write_partition(&key, schema, batches).await }).await.unwrap().unwrap();
    assert_eq!(written.rows, Some(1000));
    let raw = lake.raw();
    let stored = tokio::spawn(async move { raw.put(b"spawned".to_vec()).await }).await.unwrap().unwrap();
    assert_eq!(stored.size_bytes, 7);
}
