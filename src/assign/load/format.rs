//! Which reader a file needs, told by its first bytes when its extension does not say.

use super::delimited::decode_text;

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Csv(Option<u8>),
    Xlsx,
    Xls,
    Xlsb,
    Ods,
}

impl Kind {
    /// The format's name in messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Csv(_) => "CSV",
            Kind::Xlsx => "Excel (.xlsx)",
            Kind::Xls => "Excel 97-2003 (.xls)",
            Kind::Xlsb => "Excel binary (.xlsb)",
            Kind::Ods => "OpenDocument (.ods)",
        }
    }
}

pub(super) fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") {
        // Both OOXML and ODF are zip files; ODF names its mimetype first, uncompressed.
        let head = &bytes[..bytes.len().min(100)];
        let is_ods = head.windows(8).any(|w| w == b"mimetype");
        return Some(if is_ods { Kind::Ods } else { Kind::Xlsx });
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Some(Kind::Xls);
    }
    let text = decode_text(bytes);
    if text.contains('\n') || text.contains(',') || text.contains(';') || text.contains('\t') {
        return Some(Kind::Csv(None));
    }
    None
}
