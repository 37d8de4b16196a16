package io.portcamel.agent;

public final class AgentMain {
    public static void main(String[] args) throws Exception {
        System.out.println("skeleton");
    }
}
