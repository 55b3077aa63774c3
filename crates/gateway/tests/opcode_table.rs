//! docs/gateway.md's opcode table names every opcode the codec knows, and
//! marks each one the gateway refuses as not supported.

use fk_gateway::proto::OpCode;

fn table_rows() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/gateway.md"),
    )
    .unwrap();
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // The table writes negative numbers with a minus sign (U+2212).
            let number = cells.get(1).map(|c| c.replace('\u{2212}', "-"));
            (cells.len() > 4 && number.is_some_and(|n| n.parse::<i32>().is_ok()))
                .then(|| (cells[2].to_string(), cells[3].to_string()))
        })
        .collect()
}

#[test]
fn every_opcode_has_a_row_and_every_refused_one_says_no() {
    let rows = table_rows();
    for op in OpCode::ALL.into_iter().filter(|op| *op != OpCode::Error) {
        let row = rows
            .iter()
            .find(|(name, _)| name == op.name())
            .unwrap_or_else(|| panic!("no row for {} in docs/gateway.md", op.name()));
        let refused = fk_gateway::UNSUPPORTED.iter().any(|(o, _)| *o == op);
        if refused {
            assert!(
                row.1.starts_with("no") || row.1.starts_with("handshake"),
                "{} is refused but the table says {:?}",
                op.name(),
                row.1
            );
        }
    }
}
