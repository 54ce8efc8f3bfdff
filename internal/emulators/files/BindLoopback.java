// BindLoopback starts DynamoDB Local with its Jetty connector bound to
// 127.0.0.1. DynamoDB Local has no host option and otherwise listens on every
// interface; a test emulator has no business being reachable from the network.
//
// Usage: java -cp DynamoDBLocal.jar:. BindLoopback <DynamoDB Local arguments>
import java.lang.reflect.Field;

public final class BindLoopback {
    public static void main(String[] args) throws Exception {
        Object proxy = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner")
                .getMethod("createServerFromCommandLineArgs", String[].class)
                .invoke(null, (Object) args);
        // The Jetty server is a private field; its connectors exist before start().
        Field f = proxy.getClass().getDeclaredField("server");
        f.setAccessible(true);
        org.eclipse.jetty.server.Server server = (org.eclipse.jetty.server.Server) f.get(proxy);
        int bound = 0;
        for (org.eclipse.jetty.server.Connector c : server.getConnectors()) {
            if (c instanceof org.eclipse.jetty.server.ServerConnector) {
                ((org.eclipse.jetty.server.ServerConnector) c).setHost("127.0.0.1");
                bound++;
            }
        }
        if (bound == 0) {
            throw new IllegalStateException("no Jetty ServerConnector found to bind to 127.0.0.1");
        }
        proxy.getClass().getMethod("start").invoke(proxy);
        proxy.getClass().getMethod("join").invoke(proxy);
    }
}
