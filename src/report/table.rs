//! Plain aligned tables for human output.

/// Renders `rows` under `headers`, columns padded to their widest cell.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            widths[index] = widths[index].max(console::measure_text_width(cell));
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (index, cell) in cells.into_iter().enumerate() {
            if index == last {
                text.push_str(&cell);
            } else {
                text.push_str(&console::pad_str(
                    &cell,
                    widths[index],
                    console::Alignment::Left,
                    None,
                ));
                text.push_str("  ");
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut text = line(headers.iter().map(|header| header.to_string()).collect());
    for row in rows {
        text.push_str(&line(row.clone()));
    }
    text
}
