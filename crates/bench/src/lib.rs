//! gridtrade's dev tools: seeded synthetic networks of any size ([`synth`], `gridtrade synth`)
//! and the end-to-end benchmark ([`run`], `gridtrade bench`). Not part of the engine's API.

pub mod run;
pub mod synth;
