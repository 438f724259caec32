package dev.meridian.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks that {@code docker/Dockerfile} builds what the Maven build and README build, since no Docker
 * engine here builds the image: the same Maven goal and flags as README's set-up command, limited to
 * the module that makes the jar and the modules it needs; the jar name from that module's POM; base
 * images of the Java version the POM compiles for. Renaming the jar or moving Java in one place only
 * fails here.
 */
class DockerfileTest {
  private static final Pattern TEMURIN = Pattern.compile("eclipse-temurin[-:](\\d+)");
  /** README's first set-up command: build everything, then run the jar. */
  private static final Pattern README_BUILD = Pattern.compile("^(mvn [^&\\n]*?) && java -jar (\\S+) demo$", Pattern.MULTILINE);

  private static List<String> instructions;
  private static List<String> mvn;
  private static String readme;

  @BeforeAll
  static void readDockerfile() throws Exception {
    instructions = instructions(Files.readString(DeployFiles.DOCKER.resolve("Dockerfile")));
    String run = instructions.stream().filter(i -> i.startsWith("RUN ") && i.contains(" mvn ")).findFirst().orElseThrow();
    mvn = words(run.substring(run.indexOf(" mvn ") + 1, run.indexOf("&&")));
    readme = Files.readString(DeployFiles.ROOT.resolve("README.md"));
  }

  @Test
  void buildsTheJarsModuleAndWhatItNeeds() throws Exception {
    String module = flag("-pl");
    assertThat(mvn).contains("-am");
    assertThat(DeployFiles.ROOT.resolve(module).resolve("pom.xml")).as("-pl names a module").isRegularFile();
    assertThat(modules()).contains(module);
    assertThat(shadedJarName(module)).as(module + " makes the shaded jar").isNotEmpty();

    // -am builds the modules it depends on: each must be a module of the root POM.
    Path pom = DeployFiles.ROOT.resolve(module).resolve("pom.xml");
    List<String> ownModules = new ArrayList<>();
    for (String m : modules()) {
      ownModules.add(DeployFiles.xml(DeployFiles.ROOT.resolve(m).resolve("pom.xml"), "/project/artifactId"));
    }
    for (int i = 1; ; i++) {
      String group = DeployFiles.xml(pom, "/project/dependencies/dependency[" + i + "]/groupId");
      if (group.isEmpty()) {
        break;
      }
      if (group.equals("dev.meridian")) {
        assertThat(ownModules).contains(DeployFiles.xml(pom, "/project/dependencies/dependency[" + i + "]/artifactId"));
      }
    }
  }

  @Test
  void copiesAndRunsTheJarTheModulesPomNames() throws Exception {
    String module = flag("-pl");
    String built = module + "/target/" + shadedJarName(module) + ".jar";
    String run = instructions.stream().filter(i -> i.startsWith("RUN ") && i.contains(" mvn ")).findFirst().orElseThrow();
    Matcher cp = Pattern.compile("&& cp (\\S+) (\\S+)").matcher(run);
    assertThat(cp.find()).as("the build stage copies the jar out: " + run).isTrue();
    assertThat(cp.group(1)).isEqualTo(built);

    String copy = instructions.stream().filter(i -> i.startsWith("COPY --from=build ")).findFirst().orElseThrow();
    List<String> copyWords = words(copy);
    assertThat(copyWords.get(2)).as("the runtime stage takes the jar the build stage kept").isEqualTo(cp.group(2));
    String entrypoint = instructions.stream().filter(i -> i.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
    assertThat(entrypoint).contains("\"-jar\", \"" + copyWords.get(3) + "\"");
  }

  @Test
  void baseImagesAreOfTheJavaVersionThePomCompilesFor() throws Exception {
    String release = DeployFiles.xml(DeployFiles.ROOT.resolve("pom.xml"), "/project/properties/maven.compiler.release");
    assertThat(release).isNotEmpty();
    for (String m : modules()) {
      assertThat(DeployFiles.xml(DeployFiles.ROOT.resolve(m).resolve("pom.xml"), "/project/properties/maven.compiler.release"))
          .as(m + " keeps the root's release").isIn("", release);
    }

    List<String> froms = instructions.stream().filter(i -> i.startsWith("FROM ")).toList();
    assertThat(froms).hasSize(2);
    for (String from : froms) {
      Matcher java = TEMURIN.matcher(from);
      assertThat(java.find()).as(from).isTrue();
      assertThat(java.group(1)).as(from).isEqualTo(release);
    }
    assertThat(readme).as("README's set-up heading").contains("fresh machine: JDK " + release + " and Maven");
  }

  @Test
  void buildsAsReadmesSetUpCommandDoes() throws Exception {
    Matcher setUp = README_BUILD.matcher(readme);
    assertThat(setUp.find()).as("README's set-up command: mvn ... && java -jar JAR demo").isTrue();
    List<String> readmeMvn = words(setUp.group(1));

    // The same command, but in batch mode and for one module and what it needs.
    List<String> dockerMvn = new ArrayList<>(mvn);
    dockerMvn.removeAll(List.of("-B", "-am"));
    dockerMvn.remove(dockerMvn.indexOf("-pl") + 1);
    dockerMvn.remove("-pl");
    assertThat(dockerMvn).containsExactlyInAnyOrderElementsOf(readmeMvn);

    String module = flag("-pl");
    assertThat(setUp.group(2)).as("README runs the jar the image holds").isEqualTo(module + "/target/" + shadedJarName(module) + ".jar");
    assertThat(Files.readString(DeployFiles.DOCKER.resolve("README.md")))
        .as("docker/README.md quotes the build command").contains("`" + String.join(" ", mvn) + "`");
  }

  @Test
  void dockerignoreKeepsWhatTheBuildNeeds() throws Exception {
    assertThat(instructions).contains("COPY . .");
    List<String> ignored = Files.readAllLines(DeployFiles.ROOT.resolve(".dockerignore")).stream()
        .map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    for (String m : modules()) {
      assertThat(ignored).as(".dockerignore").doesNotContain(m, m + "/", "/" + m);
    }
    assertThat(ignored).doesNotContain("pom.xml", "*.xml", "**/src", "src", "*");
  }

  private static String flag(String name) {
    int at = mvn.indexOf(name);
    assertThat(at).as("mvn " + name + " in the Dockerfile").isNotNegative();
    return mvn.get(at + 1);
  }

  private static String shadedJarName(String module) throws Exception {
    return DeployFiles.xml(DeployFiles.ROOT.resolve(module).resolve("pom.xml"),
        "/project/build/plugins/plugin[artifactId='maven-shade-plugin']//finalName");
  }

  private static List<String> modules() throws Exception {
    List<String> modules = new ArrayList<>();
    for (int i = 1; ; i++) {
      String m = DeployFiles.xml(DeployFiles.ROOT.resolve("pom.xml"), "/project/modules/module[" + i + "]");
      if (m.isEmpty()) {
        return modules;
      }
      modules.add(m);
    }
  }

  /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
  private static List<String> instructions(String dockerfile) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : dockerfile.split("\n")) {
      String trimmed = line.trim();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
        continue;
      }
      boolean continues = trimmed.endsWith("\\");
      current.append(continues ? trimmed.substring(0, trimmed.length() - 1).trim() : trimmed).append(' ');
      if (!continues) {
        out.add(current.toString().trim().replaceAll("\\s+", " "));
        current.setLength(0);
      }
    }
    return out;
  }

  private static List<String> words(String text) {
    return new ArrayList<>(Arrays.asList(text.trim().split("\\s+")));
  }
}
