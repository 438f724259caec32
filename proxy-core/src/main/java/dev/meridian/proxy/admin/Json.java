package dev.meridian.proxy.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import com.fasterxml.jackson.databind.ser.Serializers;
import com.fasterxml.jackson.databind.ser.std.NumberSerializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.databind.type.ArrayType;
import com.fasterxml.jackson.databind.type.CollectionLikeType;
import com.fasterxml.jackson.databind.type.CollectionType;
import com.fasterxml.jackson.databind.type.MapLikeType;
import com.fasterxml.jackson.databind.type.ReferenceType;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;

/**
 * Writes the admin API's JSON from maps, lists, strings, numbers and booleans.
 *
 * <p>Jackson writes it, through one mapper shared by every caller (configured once, then only read,
 * so thread-safe). What it makes of a value:
 * <ul>
 *   <li>a {@link java.util.Map}: an object, entries in the map's own iteration order, each key written
 *       as {@code String.valueOf(key)} (so a {@code null} key is {@code "null"});
 *   <li>a {@link List}: an array;
 *   <li>a number: the number, except NaN and the infinities, which JSON cannot express: {@code null};
 *   <li>a string, a boolean, {@code null}: themselves;
 *   <li>anything else (another collection, an array, a record, an enum...): its {@code toString()}, as a string.
 * </ul>
 * The output is compact: no spaces, no newlines.
 */
final class Json {
  private static final ObjectMapper MAPPER = mapper();

  private Json() {}

  /** Serializes a value made of maps, lists, strings, numbers, booleans and nulls. */
  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      // Only a toString() that throws gets here: the writer itself cannot fail on a string.
      throw new IllegalStateException("cannot write the admin JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static ObjectMapper mapper() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.setSerializerFactory(mapper.getSerializerFactory()
        .withAdditionalSerializers(new AdminValues())
        .withAdditionalKeySerializers(new AdminKeys()));
    mapper.getSerializerProvider().setNullKeySerializer(KeyAsString.INSTANCE);
    return mapper;
  }

  /**
   * Chooses how a value is written, ahead of Jackson's own choices: maps, lists, strings and booleans
   * keep Jackson's serializers, numbers get {@link FiniteNumber}, and the rest their {@code toString()}
   * rather than a bean's properties.
   */
  private static final class AdminValues extends Serializers.Base {
    @Override
    public JsonSerializer<?> findSerializer(SerializationConfig config, JavaType type, BeanDescription beanDesc) {
      Class<?> raw = type.getRawClass();
      if (Number.class.isAssignableFrom(raw)) {
        return FiniteNumber.INSTANCE;
      }
      if (raw == String.class || raw == Boolean.class || raw.isPrimitive()) {
        return null;
      }
      return ToStringSerializer.instance;
    }

    @Override
    public JsonSerializer<?> findCollectionSerializer(SerializationConfig config, CollectionType type,
        BeanDescription beanDesc, TypeSerializer elementTypeSerializer, JsonSerializer<Object> elementValueSerializer) {
      return List.class.isAssignableFrom(type.getRawClass()) ? null : ToStringSerializer.instance;
    }

    @Override
    public JsonSerializer<?> findArraySerializer(SerializationConfig config, ArrayType type, BeanDescription beanDesc,
        TypeSerializer elementTypeSerializer, JsonSerializer<Object> elementValueSerializer) {
      return ToStringSerializer.instance;
    }

    @Override
    public JsonSerializer<?> findCollectionLikeSerializer(SerializationConfig config, CollectionLikeType type,
        BeanDescription beanDesc, TypeSerializer elementTypeSerializer, JsonSerializer<Object> elementValueSerializer) {
      return ToStringSerializer.instance;
    }

    @Override
    public JsonSerializer<?> findMapLikeSerializer(SerializationConfig config, MapLikeType type,
        BeanDescription beanDesc, JsonSerializer<Object> keySerializer, TypeSerializer elementTypeSerializer,
        JsonSerializer<Object> elementValueSerializer) {
      return ToStringSerializer.instance;
    }

    @Override
    public JsonSerializer<?> findReferenceSerializer(SerializationConfig config, ReferenceType type,
        BeanDescription beanDesc, TypeSerializer contentTypeSerializer, JsonSerializer<Object> contentValueSerializer) {
      return ToStringSerializer.instance;
    }
  }

  /** Every map key, whatever its type, as {@code String.valueOf(key)}. */
  private static final class AdminKeys extends Serializers.Base {
    @Override
    public JsonSerializer<?> findSerializer(SerializationConfig config, JavaType type, BeanDescription beanDesc) {
      return KeyAsString.INSTANCE;
    }
  }

  /** Writes a map key as {@code String.valueOf(key)}. */
  private static final class KeyAsString extends StdSerializer<Object> {
    static final KeyAsString INSTANCE = new KeyAsString();

    private KeyAsString() {
      super(Object.class);
    }

    @Override
    public void serialize(Object key, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeFieldName(String.valueOf(key));
    }
  }

  /** Writes a number as Jackson does, but NaN and the infinities (bare tokens, not JSON) as {@code null}. */
  private static final class FiniteNumber extends StdSerializer<Number> {
    static final FiniteNumber INSTANCE = new FiniteNumber();

    private FiniteNumber() {
      super(Number.class);
    }

    @Override
    public void serialize(Number value, JsonGenerator gen, SerializerProvider provider) throws IOException {
      // A big integer or decimal is finite even where its double is not.
      boolean finite = value instanceof BigInteger || value instanceof BigDecimal || Double.isFinite(value.doubleValue());
      if (finite) {
        NumberSerializer.instance.serialize(value, gen, provider);
      } else {
        gen.writeNull();
      }
    }
  }
}
