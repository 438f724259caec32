package dev.meridian.bench.suite;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a run directory: {@code run.json} (one object describing the machine and the settings) and
 * {@code results.jsonl} (one measurement per line). A missing or unreadable file, or a {@code run.json}
 * that is not a JSON object, is an {@link IOException} that names the file; a results line that is not
 * a JSON object with a {@code scenario} and a {@code target} (a run killed mid-write) is skipped and
 * listed in {@link #skipped()}.
 */
record RunResults(ObjectNode run, List<Measurement> measurements, List<String> skipped) {
  static final String RUN_FILE = "run.json";
  static final String RESULTS_FILE = "results.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();

  static RunResults read(Path runDir) throws IOException {
    if (!Files.isDirectory(runDir)) {
      throw new IOException("run directory not found: " + runDir + " (give the directory bench/suite.sh wrote)");
    }
    JsonNode run = parse(runDir.resolve(RUN_FILE), readText(runDir.resolve(RUN_FILE)));
    if (!run.isObject()) {
      throw new IOException(runDir.resolve(RUN_FILE) + ": expected one JSON object, found " + run.getNodeType());
    }
    List<Measurement> measurements = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<String> lines = readText(runDir.resolve(RESULTS_FILE)).lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      String problem = readLine(line, measurements);
      if (problem != null) {
        skipped.add(RESULTS_FILE + " line " + (i + 1) + ": " + problem + ", skipped");
      }
    }
    return new RunResults((ObjectNode) run, List.copyOf(measurements), List.copyOf(skipped));
  }

  /** Adds the line's measurement, or says why it cannot. */
  private static String readLine(String line, List<Measurement> measurements) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      return "not JSON (" + e.getOriginalMessage() + ")";
    }
    if (node == null || !node.isObject()) {
      return "not a JSON object";
    }
    if (node.path("scenario").asText().isBlank() || node.path("target").asText().isBlank()) {
      return "no scenario or target";
    }
    measurements.add(Measurement.of(node));
    return null;
  }

  private static String readText(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + " not found (bench/suite.sh writes it; did the run start?)");
    }
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IOException(file + ": cannot read (" + e + ")", e);
    }
  }

  private static JsonNode parse(Path file, String text) throws IOException {
    try {
      JsonNode node = JSON.readTree(text);
      if (node == null || node.isMissingNode()) {
        throw new IOException(file + ": empty, expected one JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IOException(file + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
    }
  }
}
