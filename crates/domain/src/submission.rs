//! Submissions: one file, message or API call through which an organisation shares trade data, and
//! what became of it.

use crate::labelled_enum;

labelled_enum!(
    /// The three channels of the lake (三种报送渠道), all feeding one pipeline.
    Channel, "channel" {
        Api => ("api", "数据直联", "Direct link (API)"),
        Upload => ("upload", "指定账号上传", "Designated-account upload"),
        Mailbox => ("mailbox", "定点邮箱", "Designated mailbox"),
    }
);

labelled_enum!(
    /// Where a submission stands. `Received` means its raw bytes are safe in the raw zone and processing
    /// has not finished; a crash leaves it here with nothing of it recorded, and sending it again is safe.
    SubmissionStatus, "status" {
        Received => ("received", "已接收", "Received"),
        Accepted => ("accepted", "全部接收", "Accepted"),
        Partial => ("partial", "部分接收", "Partly accepted"),
        Rejected => ("rejected", "全部拒绝", "Rejected"),
        Refused => ("refused", "拒收", "Refused"),
    }
);

impl SubmissionStatus {
    /// The outcome from the row counts: rows that were already on file count as good.
    pub fn from_counts(good_rows: u64, rejected_rows: u64, file_errors: u64) -> SubmissionStatus {
        match (good_rows, rejected_rows + file_errors) {
            (0, _) => SubmissionStatus::Rejected,
            (_, 0) => SubmissionStatus::Accepted,
            _ => SubmissionStatus::Partial,
        }
    }
}

labelled_enum!(
    /// How serious one line of a submission's report is.
    Severity, "severity" {
        Error => ("error", "错误", "Error"),
        Warning => ("warning", "提示", "Warning"),
    }
);
