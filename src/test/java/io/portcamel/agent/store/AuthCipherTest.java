package io.portcamel.agent.store;

import org.junit.jupiter.api.Test;

import java.security.GeneralSecurityException;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuthCipherTest {
    private final AuthCipher cipher = new AuthCipher("s3cret");

    @Test
    void roundTripsWithARandomIvPerValue() throws Exception {
        String a = cipher.encrypt("{\"Circle-Token\":\"abc\"}", "run-1");
        String b = cipher.encrypt("{\"Circle-Token\":\"abc\"}", "run-1");
        assertNotEquals(a, b);
        assertTrue(a.startsWith("v1:"));
        assertEquals(12 + 22 + 16, Base64.getDecoder().decode(a.substring(3)).length, "iv + plaintext + tag");
        assertEquals("{\"Circle-Token\":\"abc\"}", cipher.decrypt(a, "run-1"));
        assertEquals("{\"Circle-Token\":\"abc\"}", new AuthCipher("s3cret").decrypt(b, "run-1"), "the key is derived, not random");
    }

    @Test
    void refusesAnotherSecretAnotherRunTamperingAndGarbage() {
        String sealed = cipher.encrypt("{}", "run-1");
        assertThrows(GeneralSecurityException.class, () -> new AuthCipher("other").decrypt(sealed, "run-1"));
        assertThrows(GeneralSecurityException.class, () -> cipher.decrypt(sealed, "run-2"));
        byte[] raw = Base64.getDecoder().decode(sealed.substring(3));
        raw[raw.length - 1] ^= 1;
        assertThrows(GeneralSecurityException.class, () -> cipher.decrypt("v1:" + Base64.getEncoder().encodeToString(raw), "run-1"));
        assertThrows(GeneralSecurityException.class, () -> cipher.decrypt("v1:AAAA", "run-1"));
        assertThrows(GeneralSecurityException.class, () -> cipher.decrypt("v1:!!", "run-1"));
        assertThrows(GeneralSecurityException.class, () -> cipher.decrypt("{\"Circle-Token\":\"abc\"}", "run-1"));
        assertThrows(IllegalArgumentException.class, () -> new AuthCipher(""));
        assertThrows(IllegalArgumentException.class, () -> TrackingStore.open(StoreSettings.from(java.util.Map.of()), null));
    }
}
