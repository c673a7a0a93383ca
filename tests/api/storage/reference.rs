use api::config::Settings;
use api::startup;
use domain::Geography;
use persistence::reference::{self, Sources};

use crate::helpers::TestDatabase;

#[test]
fn the_geography_loads_on_first_start_and_a_newer_vintage_survives_restarts() {
    let database = TestDatabase::new();
    let settings = Settings::for_database(database.url());
    let state = startup::prepare(&settings).unwrap();
    let montpellier = state.geography.commune("34172").unwrap();
    assert_eq!(montpellier.name, "Montpellier");
    assert_eq!(montpellier.department, "34");
    assert!(montpellier.postal_codes.iter().any(|code| code == "34070"));
    assert_eq!(state.geography.department("34").unwrap().name, "Hérault");

    // An administrator loads a new vintage: one commune renamed, one postal code added.
    let communes = reference::EMBEDDED_COMMUNES.replace(
        "34172,Montpellier,34,76,34000 34070",
        "34172,Montpellier-la-Neuve,34,76,34000 34001 34070",
    );
    let mut conn = state.pool.get().unwrap();
    let report = reference::load(
        &mut conn,
        Sources {
            communes: &communes,
            ..Sources::embedded()
        },
    )
    .unwrap();
    assert!(report.loaded);
    assert_eq!(report.communes, 34_969);
    drop(conn);

    let restarted = startup::prepare(&settings).unwrap();
    let renamed = restarted.geography.commune("34172").unwrap();
    assert_eq!(renamed.name, "Montpellier-la-Neuve");
    assert!(renamed.postal_codes.iter().any(|code| code == "34001"));
}
