package dev.meridian.bench.suite;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * One line of {@code results.jsonl}: a scenario measured once against one target. Absent, null or
 * non-numeric numbers are null; {@code latencyMs} maps a percentile ("50", "99.9", "100") to
 * milliseconds and is empty when the line has none; a missing {@code status} is "ok" when there is a
 * value and "failed" when there is not.
 */
record Measurement(String scenario, String title, String target, int rep, String metric, Double value,
    String better, Map<String, Double> latencyMs, Long errors, Double proxyCpuPct, Double perCpuS,
    Double otherLoadPct, String status, String note) {

  /** Orders percentile keys numerically ("50" before "99" before "99.9"). */
  static final Comparator<String> BY_PERCENTILE = Comparator.comparingDouble(Double::parseDouble);

  /** Reads one results.jsonl object; the caller has checked that it has a scenario and a target. */
  static Measurement of(JsonNode line) {
    Double value = number(line.get("value"));
    Double errors = number(line.get("errors"));
    String status = text(line.get("status"));
    return new Measurement(text(line.get("scenario")), text(line.get("title")), text(line.get("target")),
        line.path("rep").asInt(0), text(line.get("metric")), value, text(line.get("better")),
        latency(line.get("latency_ms")), errors == null ? null : Math.round(errors),
        number(line.get("proxy_cpu_pct")), number(line.get("per_cpu_s")), number(line.get("other_load_pct")),
        status != null ? status : value != null ? "ok" : "failed", text(line.get("note")));
  }

  private static Map<String, Double> latency(JsonNode node) {
    if (node == null || !node.isObject()) {
      return Map.of();
    }
    Map<String, Double> percentiles = new TreeMap<>(BY_PERCENTILE);
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      Double millis = number(entry.getValue());
      String percentile = percentileKey(entry.getKey());
      if (millis != null && percentile != null) {
        percentiles.put(percentile, millis);
      }
    }
    return Collections.unmodifiableMap(percentiles);
  }

  /** "99.90" and "99.9" are the same percentile: the key is the shortest plain decimal, null if not a number. */
  private static String percentileKey(String key) {
    try {
      return new BigDecimal(key.trim()).stripTrailingZeros().toPlainString();
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static Double number(JsonNode node) {
    if (node == null || !(node.isNumber() || node.isTextual())) {
      return null;
    }
    double d;
    try {
      d = node.isNumber() ? node.doubleValue() : Double.parseDouble(node.asText().trim());
    } catch (NumberFormatException e) {
      return null;
    }
    return Double.isFinite(d) ? d : null;
  }

  private static String text(JsonNode node) {
    return node == null || node.isNull() || node.asText().isBlank() ? null : node.asText();
  }
}
