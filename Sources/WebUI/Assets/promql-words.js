// The words of PromQL the expression box completes besides the store's names: the functions and
// aggregations tally evaluates (a test keeps these lists equal to the PromQL module's) and the
// keywords.
export const functions = [
  "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
  "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
  "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg", "delta",
  "deriv", "exp", "floor", "histogram_quantile", "holt_winters", "hour", "idelta", "increase",
  "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2", "max_over_time",
  "min_over_time", "minute", "month", "pi", "predict_linear", "present_over_time",
  "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort",
  "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh",
  "time", "timestamp", "vector", "year",
];

export const aggregations = ["avg", "bottomk", "count", "count_values", "group", "max", "min", "quantile", "stddev", "stdvar", "sum", "topk"];

export const keywords = ["and", "bool", "by", "group_left", "group_right", "ignoring", "offset", "on", "or", "unless", "without"];
