package io.portcamel.agent.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Decrypts the message fields listed in a mapping's {@code fieldsToDecryptPaths}, as port-agent's
 * {@code app/utils.py} does (REFERENCE 3.5): AES-256-GCM, key = the first 32 UTF-8 bytes of PORT_CLIENT_SECRET,
 * value = base64(iv[16] || ciphertext || tag[16]), no AAD; paths are glom dot paths from the message root with
 * numeric segments indexing arrays. A failure never stops the run: it yields a warning and the value stays as it
 * was, because that is what port-agent does and a target may tolerate it.
 */
public final class FieldDecryptor {

    private static final int IV_LEN = 16;
    private static final int TAG_LEN = 16;

    private final byte[] key;
    private final String keyProblem;

    public FieldDecryptor(String clientSecret) {
        byte[] s = clientSecret == null ? new byte[0] : clientSecret.getBytes(StandardCharsets.UTF_8);
        if (s.length == 0) {
            key = null;
            keyProblem = "PORT_CLIENT_SECRET is empty";
        } else if (s.length < 32) {
            key = null;
            keyProblem = "PORT_CLIENT_SECRET is shorter than 32 bytes, which AES-256 needs";
        } else {
            key = Arrays.copyOf(s, 32);
            keyProblem = null;
        }
    }

    /** Decrypts {@code paths} in place; returns one warning per field left undecrypted. */
    public List<String> decrypt(ObjectNode message, List<String> paths) {
        List<String> warnings = new ArrayList<>();
        if (paths == null || paths.isEmpty()) {
            return warnings;
        }
        if (key == null) {
            warnings.add("Field decryption skipped for " + paths.size() + " field(s): " + keyProblem);
            return warnings;
        }
        for (String path : paths) {
            try {
                decryptOne(message, path);
            } catch (IllegalArgumentException | GeneralSecurityException e) {
                warnings.add("Decryption failed for '" + path + "': " + e.getMessage());
            }
        }
        return warnings;
    }

    private void decryptOne(ObjectNode message, String path) throws GeneralSecurityException {
        String[] parts = path.split("\\.", -1);
        JsonNode parent = message;
        for (int i = 0; i < parts.length - 1; i++) {
            parent = child(parent, parts[i], path);
        }
        String last = parts[parts.length - 1];
        JsonNode value = child(parent, last, path);
        if (!value.isTextual()) {
            throw new IllegalArgumentException("value is not a string");
        }
        String plain = decryptValue(value.textValue());
        if (parent instanceof ObjectNode o) {
            o.set(last, TextNode.valueOf(plain));
        } else {
            ((ArrayNode) parent).set(Integer.parseInt(last), TextNode.valueOf(plain));
        }
    }

    private static JsonNode child(JsonNode node, String seg, String path) {
        JsonNode c = null;
        if (node instanceof ObjectNode) {
            c = node.get(seg);
        } else if (node instanceof ArrayNode && seg.matches("-?\\d+")) {
            int idx = Integer.parseInt(seg);
            if (idx < 0) {
                idx += node.size();
            }
            c = node.get(idx);
        }
        if (c == null) {
            throw new IllegalArgumentException("path segment '" + seg + "' not found");
        }
        return c;
    }

    private String decryptValue(String b64) throws GeneralSecurityException {
        byte[] data;
        try {
            data = Base64.getDecoder().decode(b64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("value is not base64");
        }
        if (data.length < IV_LEN + TAG_LEN) {
            throw new IllegalArgumentException("encrypted data is too short");
        }
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_LEN * 8, data, 0, IV_LEN));
        byte[] plain = c.doFinal(data, IV_LEN, data.length - IV_LEN);
        return new String(plain, StandardCharsets.UTF_8);
    }

    /** The inverse, in Port's format, for tests and tools. */
    public static String encrypt(String secret, String plaintext) {
        try {
            byte[] key = Arrays.copyOf(secret.getBytes(StandardCharsets.UTF_8), 32);
            byte[] iv = new byte[IV_LEN];
            new SecureRandom().nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_LEN * 8, iv));
            byte[] ct = c.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[IV_LEN + ct.length];
            System.arraycopy(iv, 0, out, 0, IV_LEN);
            System.arraycopy(ct, 0, out, IV_LEN, ct.length);
            return Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
