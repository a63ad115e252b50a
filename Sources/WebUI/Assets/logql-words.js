// The words of LogQL the logs box completes besides the stream labels: the range functions and
// aggregations tally evaluates (a test keeps these lists equal to the LogQL module's), the
// pipeline stages and the keywords.
export const functions = [
  "absent_over_time", "avg_over_time", "bytes_over_time", "bytes_rate", "count_over_time",
  "first_over_time", "last_over_time", "max_over_time", "min_over_time", "quantile_over_time",
  "rate", "rate_counter", "stddev_over_time", "stdvar_over_time", "sum_over_time",
];

export const aggregations = ["avg", "bottomk", "count", "max", "min", "sort", "sort_desc", "stddev", "stdvar", "sum", "topk"];

export const stages = [
  "decolorize", "drop", "json", "keep", "label_format", "line_format", "logfmt", "pattern", "regexp", "unpack", "unwrap",
];

export const keywords = [
  "and", "bool", "by", "bytes", "duration", "duration_seconds", "group_left", "group_right", "ignoring",
  "label_replace", "offset", "on", "or", "unless", "vector", "without",
];
