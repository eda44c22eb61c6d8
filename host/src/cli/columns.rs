//! Rows as aligned columns, each as wide as its widest cell, for the
//! CLI's tables. Pure: text in, text out.

/// `header` and `rows` as lines of columns two spaces apart, each line
/// starting with `indent`; trailing spaces trimmed.
pub fn aligned(indent: &str, header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .chain([&header[c]])
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for cells in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        text.push_str(indent);
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn every_column_is_as_wide_as_its_widest_cell() {
        let text = aligned(
            "",
            &strings(&["ID", "STATE"]),
            &[
                strings(&["woocommerce:a-very-long-instance-name", "active"]),
                strings(&["low-stock", "inactive"]),
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        let state_at = |line: &str, state: &str| line.find(state).unwrap();
        assert_eq!(state_at(lines[0], "STATE"), state_at(lines[1], "active"));
        assert_eq!(state_at(lines[1], "active"), state_at(lines[2], "inactive"));
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }
}
