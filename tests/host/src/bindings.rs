//! Host-side bindings for the Spin interfaces the guests import.

wasmtime::component::bindgen!({
    path: ["wit/spin-variables.wit", "wit/spin-key-value.wit", "wit/spin-sqlite.wit"],
    inline: "
        package pipeline-guard:test-host;
        world spin-imports {
            import spin:variables/variables@3.0.0;
            import spin:key-value/key-value@3.0.0;
            import spin:sqlite/sqlite@3.1.0;
        }
    ",
    world: "pipeline-guard:test-host/spin-imports",
    imports: {
        // `spin:sqlite`'s synchronous functions block the guest, but the host
        // runs them as async functions so that SQLite's work (and its busy
        // waits) happen off the async runtime's threads, as in Spin.
        "spin:sqlite/sqlite@3.1.0.[static]connection.open": async | trappable,
        "spin:sqlite/sqlite@3.1.0.[method]connection.execute": async | trappable,
        "spin:sqlite/sqlite@3.1.0.[method]connection.last-insert-rowid": async | trappable,
        "spin:sqlite/sqlite@3.1.0.[method]connection.changes": async | trappable,
        default: trappable,
    },
    with: {
        "spin:key-value/key-value.store": crate::key_value::StoreHandle,
        "spin:sqlite/sqlite.connection": crate::sqlite_store::SqlConnection,
    },
});

pub use spin::key_value::key_value;
pub use spin::sqlite::sqlite;
pub use spin::variables::variables;
