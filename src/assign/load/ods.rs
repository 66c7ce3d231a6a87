//! The merged cells of an OpenDocument spreadsheet, which calamine does not read.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use calamine::Dimensions;

/// Merged regions of every sheet of an OpenDocument spreadsheet, by sheet name, in sheet
/// coordinates (0-based, like calamine's ranges and .xlsx merges).
///
/// calamine reads .ods values but not merges, and without them a two-row header with merged
/// cells is taken for a one-row header plus a data row, and a value merged over several rows
/// fills only the first. The spans (`table:number-columns-spanned`/`-rows-spanned`) are read
/// from `content.xml`, counting `table:number-rows-repeated` and
/// `table:number-columns-repeated` so positions match calamine's.
pub(super) fn ods_merges(bytes: &[u8]) -> Result<HashMap<String, Vec<Dimensions>>, String> {
    use quick_xml::events::{BytesStart, Event};

    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut xml = String::new();
    archive
        .by_name("content.xml")
        .map_err(|e| e.to_string())?
        .read_to_string(&mut xml)
        .map_err(|e| e.to_string())?;
    // A count attribute (repeats, spans): at least 1.
    let count = |e: &BytesStart, name: &str| -> u32 {
        e.try_get_attribute(name)
            .ok()
            .flatten()
            .and_then(|a| a.value.trim().parse::<u32>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = HashMap::new();
    let mut sheet: Option<(String, Vec<Dimensions>)> = None;
    // Tables nested in cells (possible in ODF, not sheets of their own) are skipped.
    let mut depth = 0u32;
    let (mut row, mut col, mut rows_repeated) = (0u32, 0u32, 1u32);
    loop {
        let (e, empty) = match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                match e.name().0 {
                    "table:table" => {
                        if depth == 1
                            && let Some((name, merges)) = sheet.take()
                        {
                            out.insert(name, merges);
                        }
                        depth = depth.saturating_sub(1);
                    }
                    "table:table-row" if depth == 1 => row = row.saturating_add(rows_repeated),
                    _ => {}
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match e.name().0 {
            "table:table" if !empty => {
                depth += 1;
                if depth == 1 {
                    let name = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    sheet = Some((name, Vec::new()));
                    row = 0;
                }
            }
            "table:table-row" if depth == 1 => {
                col = 0;
                rows_repeated = count(&e, "table:number-rows-repeated");
                if empty {
                    row = row.saturating_add(rows_repeated);
                }
            }
            name @ ("table:table-cell" | "table:covered-table-cell") if depth == 1 => {
                if name == "table:table-cell" {
                    let across = count(&e, "table:number-columns-spanned");
                    let down = count(&e, "table:number-rows-spanned");
                    if (across > 1 || down > 1)
                        && let Some((_, merges)) = sheet.as_mut()
                    {
                        merges.push(Dimensions {
                            start: (row, col),
                            end: (row.saturating_add(down - 1), col.saturating_add(across - 1)),
                        });
                    }
                }
                col = col.saturating_add(count(&e, "table:number-columns-repeated"));
            }
            _ => {}
        }
    }
    Ok(out)
}
