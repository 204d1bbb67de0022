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
 *                             total), the same on the ground token v<ENV> (ground_flow, ground_share)
 *                             and ground_share on the item's first mismatched context (u<ENV> there),
 *                             row total, number of ENV positions, ground positions and tokens
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
 *                             of the trained tuned lens (and their ratio: the per-layer fit), training
 *                             KL at the first and last update, updates made (early stopping on a
 *                             validation-KL plateau with a cap), stop reason, converged (1/0/NA)
 *   heads.csv                 per (step, selection rule, layer, head): the head's saliency metrics (ENV
 *                             and ground-token share, enrichment over uniform, flows, share of its
 *                             layer's ENV flow, total), whether the rule selects it (per fold of the
 *                             word halves), the causal test on held-out words (ΔG of ablating it vs
 *                             same-size random controls, matched/mismatched changes, share of G
 *                             removed, p), p_holm (Holm per rule over heads and checkpoints) and the
 *                             verdict grounding (1/0); see study/heads-step.ts
 *   intervention.csv          per (step, selection rule): the SPEC §1 table row (heads, mean layer,
 *                             matched surprisal unablated / heads ablated / random control, p) and
 *                             ΔG with its control and one-sided test (p_dG)
 *   intervention_items.csv    per (step, selection, test item): fold, the three matched surprisals and
 *                             the three G values
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

export const SALIENCY_ITEM_COLUMNS = [...KEY, 'item', 'word', 'layer', 'unit', 'head', 'env_flow', 'env_share', 'ground_flow', 'ground_share', 'ground_share_mismatched', 'row_total', 'n_env', 'n_ground', 'n_tokens'];
export const SALIENCY_COLUMNS = [
  ...KEY, 'layer', 'unit', 'head', 'n_items', 'env_flow', 'env_flow_se', 'env_share', 'env_share_se', 'ground_flow', 'ground_share', 'ground_share_se', 'ground_share_mismatched', 'ground_share_diff', 'ground_share_diff_se', 'row_total', 'uniform_share',
];
export const LENS_ITEM_COLUMNS = [...KEY, 'lens', 'condition', 'layer', 'item', 'word', 'surprisal'];
export const LENS_COLUMNS = [...KEY, 'lens', 'condition', 'layer', 'n_items', 'surprisal', 'se'];
export const LENS_TEST_COLUMNS = [...KEY, 'lens', 'condition', 'layer_from', 'layer_to', 'mean_from', 'mean_to', 'drop', 'welch_t', 'welch_df', 'welch_p', 'paired_t', 'paired_p'];
export const LENS_TRAINING_COLUMNS = [
  'arch', 'label', 'seed', 'step', 'layer', 'kl_logit_val', 'kl_tuned_val', 'kl_ratio', 'kl_train_first', 'kl_train_last', 'lens_steps', 'lens_steps_run', 'stop_reason', 'converged', 'lens_rows', 'lens_lr', 'seconds',
];
const FOLD = (k: number) => [`selected_${k}`, `n_test_${k}`, `dG_${k}`, `dG_control_${k}`, `p_${k}`];
export const HEAD_COLUMNS = [
  ...KEY, 'selection', 'legacy', 'layer', 'head', 'n_items',
  'env_share', 'ground_share', 'env_enrichment', 'ground_enrichment', 'env_flow', 'ground_flow', 'layer_flow_share', 'total',
  'selected', 'folds', ...FOLD(1), ...FOLD(2),
  'n_test', 'G', 'dG', 'dG_control', 'd_matched', 'd_matched_control', 'd_mismatched', 'd_mismatched_control', 'removed', 't', 'p', 'wilcoxon_p', 'p_holm', 'grounding',
  'control_sets', 'control_cross_layer', 'na', 'recovery', 'reverse', 'ablation', 'layer_matched', 'cross_fit', 'uniform_share',
];
export const INTERVENTION_COLUMNS = [
  ...KEY, 'selection', 'legacy', 'n_heads', 'heads', 'heads_1', 'heads_2', 'mean_layer', 'n_items', 'original', 'intervened', 'control', 'diff', 'p',
  'G', 'dG', 'dG_control', 'removed', 't_dG', 'p_dG', 'wilcoxon_p_dG', 'd_mismatched', 'd_mismatched_control',
  'draws', 'control_size', 'control_cross_layer', 'na', 'ablation', 'layer_matched', 'cross_fit',
];
export const INTERVENTION_ITEM_COLUMNS = [...KEY, 'selection', 'item', 'word', 'fold', 'original', 'intervened', 'control', 'G', 'G_intervened', 'G_control'];

export const SALIENCY_NUMERIC = ['seed', 'step', 'layer', 'head', 'n_items', 'env_flow', 'env_flow_se', 'env_share', 'env_share_se', 'ground_flow', 'ground_share', 'ground_share_se', 'ground_share_mismatched', 'ground_share_diff', 'ground_share_diff_se', 'row_total', 'uniform_share'];
export const LENS_NUMERIC = ['seed', 'step', 'layer', 'n_items', 'surprisal', 'se'];
export const LENS_TEST_NUMERIC = ['seed', 'step', 'layer_from', 'layer_to', 'mean_from', 'mean_to', 'drop', 'welch_t', 'welch_df', 'welch_p', 'paired_t', 'paired_p'];
export const LENS_TRAINING_NUMERIC = ['seed', 'step', 'layer', 'kl_logit_val', 'kl_tuned_val', 'kl_ratio', 'kl_train_first', 'kl_train_last', 'lens_steps', 'lens_steps_run', 'converged', 'lens_rows', 'lens_lr', 'seconds'];
export const HEAD_NUMERIC = HEAD_COLUMNS.filter((c) => !['arch', 'label', 'items', 'selection', 'folds', 'na', 'ablation'].includes(c));
export const INTERVENTION_NUMERIC = INTERVENTION_COLUMNS.filter((c) => !['arch', 'label', 'items', 'selection', 'heads', 'heads_1', 'heads_2', 'na', 'ablation'].includes(c));

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
export const STUDY_SALIENCY_COLUMNS = [...SKEY, 'layer', 'unit', 'head', 'n_seeds', 'env_flow', 'env_flow_se', 'env_share', 'env_share_se', 'ground_share', 'ground_share_mismatched', 'ground_share_diff', 'ground_share_diff_se', 'uniform_share'];
export const STUDY_LENS_COLUMNS = [...SKEY, 'lens', 'condition', 'layer', 'n_seeds', 'surprisal', 'se'];
export const STUDY_LENS_TEST_COLUMNS = [...SKEY, 'lens', 'condition', 'layer_from', 'layer_to', 'n_seeds', 'mean_from', 'mean_to', 'drop', 'drop_se', 'welch_p_max', 'p_seeds'];
export const STUDY_INTERVENTION_COLUMNS = [
  ...SKEY, 'selection', 'n_seeds', 'seeds', 'n_heads', 'mean_layer', 'original', 'control', 'intervened', 'diff', 'diff_se', 'p_items', 'p_seeds', 'p_max', 'n_items', 'G', 'dG', 'dG_control', 'p_dG_items', 'p_dG_max',
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
