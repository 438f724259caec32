package dev.meridian.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.cli.MeridianCli;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/**
 * Reads the deployment files under the repository's {@code docker/} for the tests that check them:
 * paths, YAML with Compose's merge keys, POM values, and Meridian's own {@code check} on a config.
 */
final class DeployFiles {
  /** The repository root: the tests run in {@code config-samples}. */
  static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("..").normalize();
  static final Path DOCKER = ROOT.resolve("docker");

  private DeployFiles() {}

  /**
   * Runs {@code meridian check -c FILE} as the command line does, asserts exit 0 (the problems it
   * printed in the message otherwise), and returns the settings it validated.
   */
  static MeridianSettings check(Path config) throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldErr = System.err;
    int exit;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      exit = MeridianCli.execute("check", "-c", config.toString());
    } finally {
      System.setErr(oldErr);
    }
    assertThat(exit).as("meridian check -c %s: %s", config, err.toString(StandardCharsets.UTF_8)).isZero();
    return SettingsLoader.load(config);
  }

  /** Writes configuration text to {@code dir/name} and checks it as {@link #check(Path)} does. */
  static MeridianSettings check(String hocon, Path dir, String name) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, hocon);
    return check(file);
  }

  /**
   * Parses one YAML document into maps, lists and scalars, with YAML 1.1 merge keys ({@code <<: *anchor})
   * applied as Compose applies them: the map's own keys win over merged ones.
   */
  static Map<String, Object> yaml(Path file) throws IOException {
    Object doc = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
    return map(mergeKeys(doc), file.toString());
  }

  /** The map under {@code key}, failing with the key's name when it is missing or not a map. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value, String what) {
    assertThat(value).as(what).isInstanceOf(Map.class);
    return (Map<String, Object>) value;
  }

  /** The list under {@code what}, failing with its name when it is missing or not a list. */
  @SuppressWarnings("unchecked")
  static List<Object> list(Object value, String what) {
    assertThat(value).as(what).isInstanceOf(List.class);
    return (List<Object>) value;
  }

  private static Object mergeKeys(Object node) {
    if (node instanceof List<?> items) {
      List<Object> out = new ArrayList<>();
      items.forEach(item -> out.add(mergeKeys(item)));
      return out;
    }
    if (!(node instanceof Map<?, ?> entries)) {
      return node;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    Object merged = entries.get("<<");
    if (merged != null) {
      List<?> sources = merged instanceof List<?> many ? many : List.of(merged);
      for (Object source : sources) {
        map(mergeKeys(source), "<< merge source").forEach(out::putIfAbsent);
      }
    }
    entries.forEach((key, value) -> {
      if (!"<<".equals(key)) {
        out.put(String.valueOf(key), mergeKeys(value));
      }
    });
    return out;
  }

  /** The text of the first element an XPath selects in an XML file (a POM), trimmed; "" when none. */
  static String xml(Path file, String xpath) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(false);
    Document document = factory.newDocumentBuilder().parse(file.toFile());
    NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, document, XPathConstants.NODESET);
    return nodes.getLength() == 0 ? "" : nodes.item(0).getTextContent().trim();
  }
}
