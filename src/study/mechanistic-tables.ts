/**
 * The tidy tables of the mechanistic suite (SPEC §6): file names and column lists. No engine code
 * here, so the report and the study aggregation can import it without loading the native addon.
 *
 * Conventions of every table: `layer` is 1-based, as in the paper (block index = layer − 1);
 * `unit` is `head` (one attention head, or Mamba-2 SSD head) or `layer` (the layer flow
 * I_l = |Σ_h A ⊙ ∂L/∂A|; the LSTM's gradient × input), and `head` is empty (NA) for a layer
 * row; `items` is the evaluation item set the numbers were computed on (corpus | template);
 * surprisals are in nats. Empty fields are NA (pandas `read_csv`, R `read.csv`).
 *
 * RUN/mechanistic/
 *   saliency_items.csv        per (step, item, layer, unit, head): ENV flow (mean of the prediction
 *                             row of |A ⊙ ∂L/∂A| over ENV positions), ENV share (ENV part of the row
 *                             total), row total, number of ENV positions and of tokens
 *   saliency.csv              per (step, layer, unit, head): means over items (and standard errors)
 *   saliency_maps.jsonl       per (step, displayed item): the token × token saliency of one layer or
 *                             head (LSTM: gradient × input per token of one layer), with the tokens
 *   lens_items.csv            per (step, lens, condition, layer, item): target surprisal read through
 *                             the tuned lens or the logit lens (mismatched: mean over the item's
 *                             mismatch words)
 *   lens.csv                  per (step, lens, condition, layer): mean, standard error, n items
 *   lens_tests.csv            per (step, lens, condition, adjacent layers l → l+1): means, drop,
 *                             one-sided Welch t-test (is layer l+1 lower?) and paired t-test
 *   lens_training.csv         per (step, layer): validation KL(final ‖ lens) of the logit lens and
 *                             of the trained tuned lens, training KL at the first and last update
 *   heads.csv                 per (step, selection, layer, head): mean ENV share and flow over items,
 *                             whether the head is selected by the rule (threshold:X: mean share ≥ X,
 *                             the SPEC's default 0.30; top:K: the K highest shares, a second rule)
 *   intervention.csv          per (step, selection): the SPEC §1 table row: number of heads, their
 *                             mean layer, matched surprisal unablated / heads ablated / random
 *                             control, paired tests (intervened vs control, one-sided)
 *   intervention_items.csv    per (step, selection, item): the three surprisals
 *   manifest.json             options, item set, code version, per step and analysis: checkpoint
 *                             sha256 and seconds
 *   parts/<analysis>/step_N.json   cached per-step results (resuming); lens/step_N.safetensors the
 *                             tuned lens of checkpoint N with the sha256 of its unembedding
 *
 * STUDY/mechanistic/ (over the runs present): the per-run tables concatenated (*_by_run.csv) and
 * across-seed summaries: study_saliency.csv, study_lens.csv, study_lens_tests.csv,
 * study_intervention.csv (the SPEC §1 table averaged over seeds).
 */
export const MECH_DIR = 'mechanistic';

export const MECH_FILES = {
  saliencyItems: 'saliency_items.csv',
  saliency: 'saliency.csv',
  maps: 'saliency_maps.jsonl',
  lensItems: 'lens_items.csv',
  lens: 'lens.csv',
  lensTests: 'lens_tests.csv',
  lensTraining: 'lens_training.csv',
  heads: 'heads.csv',
  intervention: 'intervention.csv',
  interventionItems: 'intervention_items.csv',
  manifest: 'manifest.json',
} as const;

const KEY = ['arch', 'label', 'seed', 'step', 'items'];

export const SALIENCY_ITEM_COLUMNS = [...KEY, 'item', 'word', 'layer', 'unit', 'head', 'env_flow', 'env_share', 'row_total', 'n_env', 'n_tokens'];
export const SALIENCY_COLUMNS = [...KEY, 'layer', 'unit', 'head', 'n_items', 'env_flow', 'env_flow_se', 'env_share', 'env_share_se', 'row_total', 'uniform_share'];
export const LENS_ITEM_COLUMNS = [...KEY, 'lens', 'condition', 'layer', 'item', 'word', 'surprisal'];
export const LENS_COLUMNS = [...KEY, 'lens', 'condition', 'layer', 'n_items', 'surprisal', 'se'];
export const LENS_TEST_COLUMNS = [...KEY, 'lens', 'condition', 'layer_from', 'layer_to', 'mean_from', 'mean_to', 'drop', 'welch_t', 'welch_df', 'welch_p', 'paired_t', 'paired_p'];
export const LENS_TRAINING_COLUMNS = ['arch', 'label', 'seed', 'step', 'layer', 'kl_logit_val', 'kl_tuned_val', 'kl_train_first', 'kl_train_last', 'lens_steps', 'lens_rows', 'lens_lr', 'seconds'];
export const HEAD_COLUMNS = [...KEY, 'layer', 'head', 'n_items', 'env_share', 'env_flow', 'aggregate', 'selection', 'uniform_share'];
export const INTERVENTION_COLUMNS = [
  ...KEY, 'selection', 'threshold', 'n_heads', 'heads', 'mean_layer', 'n_items', 'original', 'intervened', 'control', 'diff', 't', 'p', 'wilcoxon_p', 'draws', 'control_size', 'layer_matched',
];
export const INTERVENTION_ITEM_COLUMNS = [...KEY, 'selection', 'item', 'word', 'original', 'intervened', 'control'];

export const SALIENCY_NUMERIC = ['seed', 'step', 'layer', 'head', 'n_items', 'env_flow', 'env_flow_se', 'env_share', 'env_share_se', 'row_total', 'uniform_share'];
export const LENS_NUMERIC = ['seed', 'step', 'layer', 'n_items', 'surprisal', 'se'];
export const LENS_TEST_NUMERIC = ['seed', 'step', 'layer_from', 'layer_to', 'mean_from', 'mean_to', 'drop', 'welch_t', 'welch_df', 'welch_p', 'paired_t', 'paired_p'];
export const LENS_TRAINING_NUMERIC = ['seed', 'step', 'layer', 'kl_logit_val', 'kl_tuned_val', 'kl_train_first', 'kl_train_last', 'lens_steps', 'lens_rows', 'lens_lr', 'seconds'];
export const HEAD_NUMERIC = ['seed', 'step', 'layer', 'head', 'n_items', 'env_share', 'env_flow', 'aggregate', 'uniform_share'];
export const INTERVENTION_NUMERIC = ['seed', 'step', 'threshold', 'n_heads', 'mean_layer', 'n_items', 'original', 'intervened', 'control', 'diff', 't', 'p', 'wilcoxon_p', 'draws', 'control_size', 'layer_matched'];

/** Study-level tables (STUDY/mechanistic/). */
export const STUDY_MECH_FILES = {
  saliencyByRun: 'saliency_by_run.csv',
  lensByRun: 'lens_by_run.csv',
  lensTestsByRun: 'lens_tests_by_run.csv',
  lensTrainingByRun: 'lens_training_by_run.csv',
  headsByRun: 'heads_by_run.csv',
  interventionByRun: 'intervention_by_run.csv',
  saliency: 'study_saliency.csv',
  lens: 'study_lens.csv',
  lensTests: 'study_lens_tests.csv',
  intervention: 'study_intervention.csv',
} as const;

const SKEY = ['label', 'arch', 'items', 'step'];
export const STUDY_SALIENCY_COLUMNS = [...SKEY, 'layer', 'unit', 'head', 'n_seeds', 'env_flow', 'env_flow_se', 'env_share', 'env_share_se', 'uniform_share'];
export const STUDY_LENS_COLUMNS = [...SKEY, 'lens', 'condition', 'layer', 'n_seeds', 'surprisal', 'se'];
export const STUDY_LENS_TEST_COLUMNS = [...SKEY, 'lens', 'condition', 'layer_from', 'layer_to', 'n_seeds', 'mean_from', 'mean_to', 'drop', 'drop_se', 'welch_p_max', 'p_seeds'];
export const STUDY_INTERVENTION_COLUMNS = [
  ...SKEY, 'selection', 'n_seeds', 'seeds', 'n_heads', 'mean_layer', 'original', 'control', 'intervened', 'diff', 'diff_se', 'p_items', 'p_seeds', 'p_max', 'n_items',
];

/** The one item of a step whose saliency map is kept for display (saliency_maps.jsonl). */
export interface SaliencyMapRecord {
  arch: string;
  label: string;
  seed: number;
  step: number;
  items: string;
  item: string;
  word: string;
  /** 1-based layer of the map. */
  layer: number;
  /** Head of the map; null: the layer flow |Σ_h A ⊙ ∂L/∂A| (or the LSTM layer's gradient × input). */
  head: number | null;
  /** attention: `saliency` is the n × n matrix (rows: query positions); input: one value per token. */
  kind: 'attention' | 'input';
  tokens: string[];
  env_positions: number[];
  target: string;
  /** Matched surprisal of the target (nats). */
  surprisal: number;
  /** ENV share of the prediction row of this map. */
  env_share: number;
  saliency: number[][] | number[];
}
