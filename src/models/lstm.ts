/** Unidirectional LSTM: filled in by the LSTM work; registers itself with registerArch. */
export {};
