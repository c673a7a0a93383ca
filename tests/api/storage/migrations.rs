use persistence::db;

use crate::helpers::TestDatabase;

#[test]
fn every_migration_survives_up_down_up() {
    let database = TestDatabase::new();
    let pool = crate::helpers::pool(database.url(), 1);
    let mut conn = pool.get().unwrap();
    assert!(!db::run_migrations(&mut conn).unwrap().is_empty());
    assert!(db::migrations_current(&mut conn).unwrap());
    db::revert_all_migrations(&mut conn).unwrap();
    assert!(!db::migrations_current(&mut conn).unwrap());
    assert!(!db::run_migrations(&mut conn).unwrap().is_empty());
    assert!(db::migrations_current(&mut conn).unwrap());
}
