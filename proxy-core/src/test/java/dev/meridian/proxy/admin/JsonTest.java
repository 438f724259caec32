package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admin API's JSON read back by a strict parser (Jackson's defaults refuse NaN and Infinity
 * tokens): non-finite numbers, awkward strings, order, and the {@code toString()} fallback.
 */
class JsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode roundTrip(Object value) throws Exception {
    return JSON.readTree(Json.write(value));
  }

  @ParameterizedTest
  @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void aNonFiniteDoubleIsWrittenAsNull(double value) throws Exception {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("ratio", value);
    doc.put("list", List.of(1, value, 2.5));
    assertThat(Json.write(doc)).isEqualTo("{\"ratio\":null,\"list\":[1,null,2.5]}");
    assertThat(Json.write(value)).isEqualTo("null");
    assertThat(roundTrip(doc).get("ratio").isNull()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
  void aNonFiniteFloatIsWrittenAsNull(float value) throws Exception {
    assertThat(Json.write(Map.of("f", value))).isEqualTo("{\"f\":null}");
    assertThat(Json.write(Arrays.asList(value, 0.5f))).isEqualTo("[null,0.5]");
  }

  @Test
  void finiteNumbersAndBooleansAreWrittenAsThemselves() throws Exception {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("int", 7);
    doc.put("long", Long.MAX_VALUE);
    doc.put("double", 0.125);
    doc.put("negative", -3.5f);
    doc.put("big", new java.math.BigInteger("1" + "0".repeat(400)));
    doc.put("yes", true);
    doc.put("nothing", null);
    JsonNode node = roundTrip(doc);
    assertThat(node.get("int").intValue()).isEqualTo(7);
    assertThat(node.get("long").longValue()).isEqualTo(Long.MAX_VALUE);
    assertThat(node.get("double").doubleValue()).isEqualTo(0.125);
    assertThat(node.get("negative").doubleValue()).isEqualTo(-3.5);
    assertThat(node.get("big").bigIntegerValue()).isEqualTo(new java.math.BigInteger("1" + "0".repeat(400)));
    assertThat(node.get("yes").booleanValue()).isTrue();
    assertThat(node.get("nothing").isNull()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "plain",
      "",
      "quote \" backslash \\ slash /",
      "newline \n return \r tab \t backspace \b form feed \f",
      "nul \u0000 unit separator \u001f delete \u007f",
      "line separator \u2028 paragraph separator \u2029",
      "caf\u00e9 \u65e5\u672c \ud83d\ude80 \ufeff",
      "{\"looks\":[\"like\",\"json\"]}"
  })
  void stringsRoundTripAsValuesAndAsKeys(String s) throws Exception {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("value", s);
    doc.put(s, "key");
    JsonNode node = roundTrip(doc);
    assertThat(node.get("value").textValue()).isEqualTo(s);
    assertThat(node.get(s).textValue()).isEqualTo("key");
    assertThat(roundTrip(s).textValue()).isEqualTo(s);
  }

  @Test
  void nestedMapsAndListsKeepTheirOrder() throws Exception {
    Map<String, Object> inner = new LinkedHashMap<>();
    for (String key : List.of("zulu", "alpha", "mike", "bravo")) {
      inner.put(key, key.length());
    }
    List<Object> list = new ArrayList<>(List.of("c", "a", "b"));
    list.add(inner);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("z", list);
    doc.put("a", Map.of());
    doc.put("m", inner);

    assertThat(Json.write(doc)).isEqualTo(
        "{\"z\":[\"c\",\"a\",\"b\",{\"zulu\":4,\"alpha\":5,\"mike\":4,\"bravo\":5}],\"a\":{},"
            + "\"m\":{\"zulu\":4,\"alpha\":5,\"mike\":4,\"bravo\":5}}");
    JsonNode node = roundTrip(doc);
    assertThat(node.fieldNames()).toIterable().containsExactly("z", "a", "m");
    assertThat(node.get("m").fieldNames()).toIterable().containsExactly("zulu", "alpha", "mike", "bravo");
    assertThat(node.get("z").get(3).fieldNames()).toIterable().containsExactly("zulu", "alpha", "mike", "bravo");
  }

  @Test
  void keysAreWrittenAsTheirStringValue() throws Exception {
    Map<Object, Object> doc = new HashMap<>();
    doc.put(null, 1);
    doc.put(42, 2);
    JsonNode node = roundTrip(doc);
    assertThat(node.get("null").intValue()).isEqualTo(1);
    assertThat(node.get("42").intValue()).isEqualTo(2);
  }

  enum Mode {
    FAST;

    @Override
    public String toString() {
      return "fast mode";
    }
  }

  record Host(String name, int port) {}

  @Test
  void anythingElseIsWrittenAsItsToString() throws Exception {
    Object odd = new Object() {
      @Override
      public String toString() {
        return "host \"*\"\n";
      }
    };
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("odd", odd);
    doc.put("enum", Mode.FAST);
    doc.put("record", new Host("a", 80));
    doc.put("char", 'x');
    JsonNode node = roundTrip(doc);
    assertThat(node.get("odd").textValue()).isEqualTo("host \"*\"\n");
    assertThat(node.get("enum").textValue()).isEqualTo("fast mode");
    assertThat(node.get("record").textValue()).isEqualTo(new Host("a", 80).toString());
    assertThat(node.get("char").textValue()).isEqualTo("x");
  }
}
