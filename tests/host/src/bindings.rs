//! Host-side bindings for the Spin interfaces the guests import.

wasmtime::component::bindgen!({
    path: ["wit/spin-variables.wit", "wit/spin-key-value.wit"],
    inline: "
        package pipeline-guard:test-host;
        world spin-imports {
            import spin:variables/variables@3.0.0;
            import spin:key-value/key-value@3.0.0;
        }
    ",
    world: "pipeline-guard:test-host/spin-imports",
    imports: { default: trappable },
    with: {
        "spin:key-value/key-value.store": crate::key_value::StoreHandle,
    },
});

pub use spin::key_value::key_value;
pub use spin::variables::variables;
