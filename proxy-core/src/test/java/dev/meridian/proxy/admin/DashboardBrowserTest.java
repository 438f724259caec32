package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.drill.LoadGenerator;
import dev.meridian.proxy.testing.RegionalBackends;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The dashboard in a real browser: headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}, which {@code .ci/run} installs) loads the admin page of a proxy with three
 * regions under a small client load. The page must load without console errors and show the three
 * regions, and pressing a region's "dial 0%" button must move its share to the next region within
 * a few seconds. A screenshot is written to {@code target/dashboard.png}.
 */
class DashboardBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Map<String, Long> LATENCY_MS = new LinkedHashMap<>();

  static {
    LATENCY_MS.put("us-east", 2L);
    LATENCY_MS.put("eu-west", 10L);
    LATENCY_MS.put("ap-south", 25L);
  }

  private RegionalBackends backends;
  private MeridianInstance proxy;
  private final List<LoadGenerator> load = new ArrayList<>();
  private ChromeDriver browser;

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.quit();
    }
    load.forEach(LoadGenerator::close);
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backends != null) {
      backends.close();
    }
  }

  @Test
  void showsTheRegionsAndADialButtonMovesTheShare() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    backends = RegionalBackends.start(List.copyOf(LATENCY_MS.keySet()),
        region -> request -> Reply.ok(region).delay(Duration.ofMillis(LATENCY_MS.get(region))));
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  region = \"us-east\"\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  backend-groups { app { strategy = \"peak-ewma\", backends = [\n" + backends.hoconList() + "] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n", "dashboard-test")).start();
    URI target = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/");
    for (String region : LATENCY_MS.keySet()) {
      LoadGenerator clients = new LoadGenerator(target, 20, 2, Map.of("X-Client-Region", region),
          Duration.ofSeconds(5), false);
      clients.start();
      load.add(clients);
    }

    browser = startBrowser();
    browser.get("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/");

    await().atMost(Duration.ofSeconds(20)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() ->
        assertThat(browser.findElements(By.cssSelector("#regions .card")))
            .extracting(card -> card.getAttribute("data-region"))
            .containsExactly("us-east", "eu-west", "ap-south"));
    // Each client region is served by its own region first: a third of the requests each.
    await().atMost(Duration.ofSeconds(15)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() -> {
      assertThat(share("eu-west")).isBetween(20, 50);
      assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("live");
    });

    browser.findElement(By.cssSelector(".card[data-region=eu-west] button[data-action=dial][data-percent='0']")).click();

    // eu-west's clients now go to the next region in their failover order: eu-west shows 0%.
    await().atMost(Duration.ofSeconds(10)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() -> {
      assertThat(share("eu-west")).isZero();
      assertThat(text(".card[data-region=eu-west] [data-field=dial]")).isEqualTo("0%");
      assertThat(share("us-east") + share("ap-south")).isGreaterThanOrEqualTo(95);
    });
    await().atMost(Duration.ofSeconds(10)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() ->
        assertThat(browser.findElements(By.cssSelector("#decisions tbody tr"))).isNotEmpty());
    assertThat(browser.findElements(By.cssSelector("#backends tbody tr"))).hasSize(3);

    Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
    Files.createDirectories(Path.of("target"));
    Files.copy(shot, Path.of("target", "dashboard.png"), StandardCopyOption.REPLACE_EXISTING);

    List<LogEntry> severe = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).toList();
    assertThat(severe).as("browser console errors").isEmpty();
  }

  /**
   * With an admin token, the page asks for it, then shows the live regions and its controls work;
   * the token is kept in the tab's session storage and sent as a header, never as a cookie (a host's
   * cookies go to each of its ports, the proxy's own listeners and their backends among them).
   */
  @Test
  void withATokenThePageAsksForItAndKeepsItOutOfCookies(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    String token = "0123456789abcdef0123456789abcdef";
    Path tokenFile = Files.writeString(dir.resolve("admin.token"), token + "\n");
    backends = RegionalBackends.start(List.of("us-east", "eu-west"), region -> request -> Reply.ok(region));
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  region = \"us-east\"\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\", token-file = \"" + tokenFile + "\" }\n"
        + "  backend-groups { app { backends = [\n" + backends.hoconList() + "] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n", "dashboard-token-test")).start();

    browser = startBrowser();
    // A cookie an earlier version of the page set is expired by this one.
    browser.get("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/healthz");
    browser.manage().addCookie(new org.openqa.selenium.Cookie("meridian_admin_token", token, "/"));
    browser.get("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/");
    await().atMost(Duration.ofSeconds(20)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() ->
        assertThat(browser.findElement(By.id("login")).isDisplayed()).isTrue());
    assertThat(browser.executeScript("return document.cookie")).isEqualTo("");
    assertThat(browser.findElements(By.cssSelector("#regions .card"))).isEmpty();

    browser.findElement(By.id("token")).sendKeys(token);
    browser.findElement(By.cssSelector("#login button")).click();
    await().atMost(Duration.ofSeconds(20)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() -> {
      assertThat(browser.findElements(By.cssSelector("#regions .card"))).extracting(c -> c.getAttribute("data-region"))
          .contains("us-east", "eu-west");
      assertThat(browser.findElement(By.id("status")).getText()).isEqualTo("live");
    });
    browser.findElement(By.cssSelector(".card[data-region=eu-west] button[data-action=dial][data-percent='0']")).click();
    await().atMost(Duration.ofSeconds(10)).ignoreException(org.openqa.selenium.StaleElementReferenceException.class).untilAsserted(() ->
        assertThat(text(".card[data-region=eu-west] [data-field=dial]")).isEqualTo("0%"));
    assertThat(browser.executeScript("return document.cookie")).isEqualTo("");
  }

  /** The share a region's card shows, in percent. */
  private int share(String region) {
    String shown = text(".card[data-region=" + region + "] [data-field=share]");
    return shown.endsWith("%") ? Integer.parseInt(shown.substring(0, shown.length() - 1)) : -1;
  }

  /**
   * The text an element shows now. The page redraws its cards as the stream updates them (every
   * second), so an element found may be replaced before it is read: it is found again then.
   */
  private String text(String css) {
    for (int tries = 1; ; tries++) {
      try {
        return browser.findElement(By.cssSelector(css)).getText().trim();
      } catch (org.openqa.selenium.StaleElementReferenceException redrawn) {
        if (tries == 5) {
          throw redrawn;
        }
      }
    }
  }

  private static ChromeDriver startBrowser() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1280,1400");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }
}
