// The feature names RT-DC defines, and dclab's rule for a member of `events` that is none of
// them. From dclab (github.com/DC-analysis/dclab, commit 412d1a07):
// - dclab/definitions/feat_const.py: FEATURES_SCALAR (including `userdef0`..`userdef9`, "not
//   reserved for anything specific", and the basin mapping features `basinmap0`..`basinmap9`)
//   and FEATURES_NON_SCALAR;
// - dclab/definitions/feat_logic.py: `feature_exists(name)` is true for those names and for
//   machine-learning scores matching ML_SCORE_REGEX `^ml_score_[a-z0-9]{3}$`;
// - dclab/rtdc_dataset/check.py, `IntegrityChecker.check_features_unknown_hdf5`: every member
//   of the HDF5 `events` group for which `feature_exists` is false is a cue of level
//   "violation" ("Features: Unknown key '<name>'"), except `def` (an old Shape-In spelling
//   of `deform`), which is skipped. Only `events` is looked at: the traces under
//   `events/trace` and the features of basins (kept outside `events`) are not.
// Temporary and plugin features exist in dclab only once a program registers them
// (`feature_register`); a checker that registers none, as DCOR's, calls them unknown, and so
// does this one. dclab's rationale: an uploader must learn that a feature would be lost.

/** Scalar features (dclab's FEATURES_SCALAR). */
const SCALAR_FEATURES: readonly string[] = [
  'area_cvx', 'area_msd', 'area_ratio', 'area_um', 'area_um_raw', 'aspect', 'bg_med', 'bg_off',
  'bright_avg', 'bright_sd', 'bright_bc_avg', 'bright_bc_sd', 'bright_perc_10', 'bright_perc_90',
  'circ', 'deform', 'deform_raw', 'eccentr_prnc', 'emodulus',
  'fl1_area', 'fl1_dist', 'fl1_max', 'fl1_max_ctc', 'fl1_npeaks', 'fl1_pos', 'fl1_width',
  'fl2_area', 'fl2_dist', 'fl2_max', 'fl2_max_ctc', 'fl2_npeaks', 'fl2_pos', 'fl2_width',
  'fl3_area', 'fl3_dist', 'fl3_max', 'fl3_max_ctc', 'fl3_npeaks', 'fl3_pos', 'fl3_width',
  'flow_rate', 'frame', 'g_force', 'index', 'index_online', 'inert_ratio_cvx', 'inert_ratio_prnc',
  'inert_ratio_raw', 'ml_class', 'nevents', 'pc1', 'pc2', 'per_ratio', 'per_um_raw', 'pos_x', 'pos_y',
  'pressure', 'qpi_dm', 'qpi_dm_avg', 'qpi_dm_dns', 'qpi_dm_sd', 'qpi_pha_int', 'qpi_ri_avg',
  'qpi_ri_sd', 'qpi_focus', 'size_x', 'size_y', 'sym_x', 'sym_y', 'temp', 'temp_amb',
  'tex_asm_avg', 'tex_asm_ptp', 'tex_con_avg', 'tex_con_ptp', 'tex_cor_avg', 'tex_cor_ptp',
  'tex_den_avg', 'tex_den_ptp', 'tex_ent_avg', 'tex_ent_ptp', 'tex_f12_avg', 'tex_f12_ptp',
  'tex_f13_avg', 'tex_f13_ptp', 'tex_idm_avg', 'tex_idm_ptp', 'tex_sen_avg', 'tex_sen_ptp',
  'tex_sva_avg', 'tex_sva_ptp', 'tex_var_avg', 'tex_var_ptp', 'tilt', 'time', 'volume',
  ...Array.from({ length: 10 }, (_, i) => `userdef${i}`),
  ...Array.from({ length: 10 }, (_, i) => `basinmap${i}`),
];

/** Features with more than one value per event (dclab's FEATURES_NON_SCALAR). */
const NON_SCALAR_FEATURES: readonly string[] = ['contour', 'image', 'image_bg', 'mask', 'trace', 'qpi_oah', 'qpi_oah_bg', 'qpi_pha', 'qpi_amp'];

const KNOWN = new Set([...SCALAR_FEATURES, ...NON_SCALAR_FEATURES]);
/** dclab's ML_SCORE_REGEX: a machine-learning score, three lower-case letters or digits. */
const ML_SCORE = /^ml_score_[a-z0-9]{3}$/;
/** Names dclab knows but skips in this check (`def`: an old Shape-In spelling of `deform`). */
const IGNORED_UNKNOWN = new Set(['def']);

/** Whether dclab's `feature_exists` knows `name` (a defined feature or an ML score). */
export function featureExists(name: string): boolean {
  return KNOWN.has(name) || ML_SCORE.test(name);
}

/**
 * The problem dclab's `check_features_unknown_hdf5` reports for a member of `events`, or
 * undefined when it reports none.
 */
export function unknownFeatureProblem(name: string): string | undefined {
  if (featureExists(name) || IGNORED_UNKNOWN.has(name)) return undefined;
  return `Features: Unknown key '${name}' (not a feature RT-DC defines; it would be lost to dclab and DCOR)`;
}
