/** Mamba-2 (Dao & Gu 2024): filled in by the Mamba-2 work; registers itself with registerArch. */
export {};
