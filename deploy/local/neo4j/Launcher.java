// Embedded Neo4j Community server for deploy/local/services.
//
// Runs in single-file source mode (no build step):
//   AGENTMEM_NEO4J_LAUNCHER_PASSWORD=secret \
//   java <jvm flags> -cp "$(cat cp.txt)" Launcher.java HOME PORT [PAGECACHE_MB]
// or, as deploy/local/services does to save the in-process javac at every start,
// compiled once: javac -cp "$(cat cp.txt)" -d DIR Launcher.java; java -cp "DIR:..." Launcher ...
//
// HOME          Neo4j home folder (data/ and logs/ are created inside it)
// PORT          Bolt port, bound on 127.0.0.1 only
// PAGECACHE_MB  page cache size in MiB (default 256)
// AGENTMEM_NEO4J_LAUNCHER_PASSWORD (environment, kept off the command line)
//               password of the user "neo4j", at least 8 characters; unset, empty
//               or "-" turns authentication off
//
// Starts the DBMS with the Bolt connector, makes sure the user "neo4j" has that
// password (checked on the system graph; ALTER USER ... CHANGE NOT REQUIRED if not),
// runs RETURN 1 on the default database, prints one line "NEO4J READY ..." on
// stdout, then blocks until SIGTERM/SIGINT; a shutdown hook shuts the DBMS down
// cleanly (checkpoint, store files closed) and prints "NEO4J STOPPED".

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Label;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Transaction;
import org.neo4j.io.ByteUnit;
import org.neo4j.server.security.SecureHasher;
import org.neo4j.server.security.SystemGraphCredential;

public class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: Launcher HOME PORT [PAGECACHE_MB]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        long pagecacheMb = args.length > 2 ? Long.parseLong(args[2]) : 256L;
        String password = System.getenv().getOrDefault("AGENTMEM_NEO4J_LAUNCHER_PASSWORD", "");
        boolean auth = !(password.isEmpty() || password.equals("-"));

        SocketAddress bolt = new SocketAddress("127.0.0.1", port);
        long t0 = System.nanoTime();
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                // Routing tables (neo4j:// scheme) must name the loopback port, not localhost:7687.
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(GraphDatabaseSettings.default_advertised_address, new SocketAddress("127.0.0.1"))
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pagecacheMb))
                // A local/test server: keep little transaction log history on disk.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(64))
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Netty waits a 5 s "quiet period" at shutdown by default; stop/start cycles in
                // tests are quicker without it (internal settings, fine for a local server).
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("NEO4J STOPPING");
            System.out.flush();
            try {
                dbms.shutdown();
            } finally {
                stopped.countDown();
                System.out.println("NEO4J STOPPED");
                System.out.flush();
            }
        }, "neo4j-shutdown"));

        long tStarted = System.nanoTime();
        long tAuth;
        try {
            if (auth) {
                ensurePassword(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
            }
            tAuth = System.nanoTime();
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            Object one = db.executeTransactionally("RETURN 1 AS one", Map.of(),
                    r -> r.hasNext() ? r.next().get("one") : null);
            if (!Long.valueOf(1L).equals(one)) {
                throw new IllegalStateException("RETURN 1 gave " + one);
            }
        } catch (Throwable e) {
            // Neo4j's own threads would keep the JVM alive: exit (the hook shuts the DBMS down).
            System.out.println("NEO4J FAILED " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }
        long tEnd = System.nanoTime();
        System.out.printf(
                "NEO4J READY bolt://127.0.0.1:%d auth=%s pid=%d startup_ms=%d (dbms %d, password %d, return1 %d)%n",
                port, auth ? "enabled" : "disabled", ProcessHandle.current().pid(),
                (tEnd - t0) / 1_000_000, (tStarted - t0) / 1_000_000, (tAuth - tStarted) / 1_000_000,
                (tEnd - tAuth) / 1_000_000);
        System.out.flush();
        stopped.await();
    }

    /**
     * Gives the user "neo4j" the password, with no change required. Reading the user node of
     * the system graph first (no Cypher) skips the ALTER USER when the password is already
     * right, which is every start after the first: compiling that first system-database
     * Cypher statement costs seconds.
     */
    static void ensurePassword(GraphDatabaseService system, String password) {
        try (Transaction tx = system.beginTx()) {
            Node user = tx.findNode(Label.label("User"), "name", "neo4j");
            if (user != null
                    && Boolean.FALSE.equals(user.getProperty("passwordChangeRequired", Boolean.TRUE))
                    && SystemGraphCredential.deserialize((String) user.getProperty("credentials", ""), new SecureHasher())
                            .matchesPassword(password.getBytes(StandardCharsets.UTF_8))) {
                return;
            }
        } catch (Exception e) {
            // Could not check: fall through to ALTER USER, which is always right.
        }
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED",
                    Map.of("pw", password));
        } catch (RuntimeException e) {
            // Neo4j refuses to "change" a password to the one already set.
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                throw e;
            }
        }
    }
}
