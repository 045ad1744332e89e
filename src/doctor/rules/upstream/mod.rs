//! Test support: the peers' own test cases, restated here in the project's words. Each
//! `Case` mirrors one expected verdict of hadolint's specs (`test/Hadolint/Rule/*Spec.hs`)
//! or of docker-compose-linter's (`tests/rules/*.spec.ts`, default options) for a code that
//! maps to a devctl rule: the same situation, and whether the peer finds something there.
//! Where devctl deliberately differs, the case says why (docs/rules.md says it too); the
//! agreement over the others is counted and printed, per peer rule and in total.

pub(crate) mod case;
mod dclint;
mod hadolint_instructions;
mod hadolint_new_rules;
mod hadolint_packages;

use std::collections::BTreeMap;

use case::Case;

/// Every case, from every peer.
fn cases() -> Vec<Case> {
    let mut cases = hadolint_instructions::cases();
    cases.extend(hadolint_packages::cases());
    cases.extend(dclint::cases());
    cases.extend(hadolint_new_rules::cases());
    cases
}

/// Agreement of one peer rule (or of all): cases, deliberate differences, agreeing cases.
#[derive(Default)]
struct Tally {
    cases: usize,
    deliberate: usize,
    agree: usize,
}

impl Tally {
    fn percent(&self) -> f64 {
        let counted = self.cases - self.deliberate;
        if counted == 0 {
            100.0
        } else {
            100.0 * self.agree as f64 / counted as f64
        }
    }
}

/// Every case either agrees with its peer, or differs deliberately and says why (and then
/// really differs); the agreement, deliberate differences excluded, is at least 95%.
#[test]
fn devctl_agrees_with_the_peers_own_cases() {
    let mut by_rule: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut disagreements = Vec::new();
    for case in cases() {
        let devctl = case.devctl();
        let tally = by_rule
            .entry((case.upstream, case.rule.id.as_str()))
            .or_default();
        for tally in [&mut *tally, &mut total] {
            tally.cases += 1;
            match case.deliberate {
                Some(_) => tally.deliberate += 1,
                None if devctl == case.verdict => tally.agree += 1,
                None => {}
            }
        }
        match (case.deliberate, devctl == case.verdict) {
            (None, false) => disagreements.push(format!(
                "{} ({}): {}: the peer expects {:?}, devctl gives {devctl:?}",
                case.upstream, case.rule.id, case.mirrors, case.verdict
            )),
            (Some(_), true) => disagreements.push(format!(
                "{} ({}): {}: marked as a deliberate difference, yet devctl agrees",
                case.upstream, case.rule.id, case.mirrors
            )),
            _ => {}
        }
    }
    let mut table = String::from(
        "| peer rule | devctl rule | cases | deliberate | agree | agreement |\n|---|---|---|---|---|---|\n",
    );
    for ((upstream, rule), tally) in by_rule.iter().chain([(&("total", ""), &total)]) {
        table.push_str(&format!(
            "| {upstream} | {rule} | {} | {} | {} | {:.1}% |\n",
            tally.cases,
            tally.deliberate,
            tally.agree,
            tally.percent()
        ));
    }
    println!("{table}");
    for disagreement in &disagreements {
        println!("{disagreement}");
    }
    // docs/rules.md gives the same figures.
    assert!(
        include_str!("../../../../docs/rules.md").contains(&table),
        "docs/rules.md does not hold this table:\n{table}"
    );
    assert!(
        total.percent() >= 95.0,
        "agreement {:.1}% is below 95%:\n{}",
        total.percent(),
        disagreements.join("\n")
    );
    let deliberate_but_agreeing: Vec<&String> = disagreements
        .iter()
        .filter(|line| line.ends_with("yet devctl agrees"))
        .collect();
    assert!(
        deliberate_but_agreeing.is_empty(),
        "{deliberate_but_agreeing:#?}"
    );
}
