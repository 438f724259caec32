package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the configuration reader (Jazzer): whatever text a file holds, it is read into settings or
 * refused with an {@link InvalidConfigException} whose problems each name the file; never another
 * exception, which would leave an operator with a stack trace instead of the line and key to fix
 * (and, on a reload, would not keep the old configuration serving as a refusal does).
 *
 * <p>A normal test run replays the stored inputs in {@code SettingsFuzzTestInputs/} (a sample, wrong
 * types and values for the newer keys, broken syntax, an unresolved substitution, an include);
 * {@code JAZZER_FUZZ=1 mvn -pl proxy-core test -Dtest=SettingsFuzzTest} explores for as long as
 * {@code maxDuration} allows and stores what it finds there.
 */
class SettingsFuzzTest {

  @FuzzTest(maxDuration = "2m")
  void anyTextIsReadOrRefusedWithItsProblemsNeverAnotherError(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    try {
      MeridianSettings settings = SettingsLoader.parse(text, "fuzz.conf");
      assertThat(settings.listeners()).as("settings read are complete").isNotEmpty();
    } catch (InvalidConfigException refused) {
      assertThat(refused.getMessage()).as("a refusal names the file").contains("fuzz.conf");
    }
  }
}
