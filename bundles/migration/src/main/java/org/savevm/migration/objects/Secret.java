package org.savevm.migration.objects;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.function.Function;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * QEMU's {@code secret} object ({@code -object secret,id=ID,data=VALUE|file=PATH[,format=raw|base64]
 * [,keyid=ID,iv=BASE64]}): a password or key that other objects name by id, here tls-creds-x509's {@code passwordid}
 * for an encrypted private key. As QEMU 7.2's crypto/secret_common.c: the value comes from {@code data} or from
 * {@code file} (never both); {@code format=base64} means it is base64 text to decode; with {@code keyid} the value is
 * AES-256-CBC ciphertext (base64) under the 32-byte secret {@code keyid} names and the 16-byte {@code iv}, and what
 * it decrypts to is then read per {@code format}. The value never appears in a listing or a message.
 */
public final class Secret implements UserObject {
    public static final String TYPE = "secret";
    /** A secret is a password or a key; a file much larger than that is a mistake. */
    static final long MAX_FILE = 64 * 1024;
    private static final int AES_256_KEY = 32;
    private static final int AES_BLOCK = 16;

    private final String id;
    private final byte[] value;

    private Secret(String id, byte[] value) {
        this.id = id;
        this.value = value;
    }

    /** From the object's options; {@code lookup} finds the secret {@code keyid} names among the existing objects. */
    static Secret from(ObjectOptions o, Function<String, UserObject> lookup) throws IOException {
        String data = o.get("data");
        String file = o.get("file");
        String format = o.choice("format", "raw", "raw", "base64");
        String keyId = o.get("keyid");
        String iv = o.get("iv");
        o.checkAllUsed();
        if (data != null && file != null) {
            throw new IllegalArgumentException("'file' and 'data' are mutually exclusive");
        }
        if (data == null && file == null) {
            throw new IllegalArgumentException("Either 'file' or 'data' must be provided");
        }
        byte[] raw = data != null ? data.getBytes(StandardCharsets.UTF_8) : readFile(Path.of(file));
        if (keyId != null) {
            if (iv == null) {
                throw new IllegalArgumentException("Missing 'iv' for 'keyid'");
            }
            raw = decrypt(o.id(), raw, keyId, iv, lookup);
        } else if (iv != null) {
            throw new IllegalArgumentException("'iv' is given without 'keyid'");
        }
        if (format.equals("base64")) {
            raw = base64(o.id(), raw);
        }
        return new Secret(o.id(), raw);
    }

    private static byte[] readFile(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("Unable to read " + file + ": No such file or directory");
        }
        if (Files.size(file) > MAX_FILE) {
            throw new IOException("Secret file " + file + " is larger than " + MAX_FILE + " bytes");
        }
        return Files.readAllBytes(file);
    }

    private static byte[] base64(String id, byte[] text) {
        try {
            return Base64.getMimeDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("secret '" + id + "': the value is not valid base64", e);
        }
    }

    private static byte[] decrypt(String id, byte[] ciphertextBase64, String keyId, String ivBase64,
            Function<String, UserObject> lookup) {
        UserObject k = lookup.apply(keyId);
        if (!(k instanceof Secret key)) {
            throw new IllegalArgumentException(k == null ? "No secret with id '" + keyId + "'"
                    : "Object with id '" + keyId + "' is not a secret");
        }
        if (key.value.length != AES_256_KEY) {
            throw new IllegalArgumentException("Master key '" + keyId + "' is " + key.value.length
                    + " bytes, not the " + AES_256_KEY + " of an AES-256 key");
        }
        byte[] ivBytes = base64(id, ivBase64.getBytes(StandardCharsets.US_ASCII));
        if (ivBytes.length != AES_BLOCK) {
            throw new IllegalArgumentException("secret '" + id + "': the iv is " + ivBytes.length + " bytes, not "
                    + AES_BLOCK);
        }
        byte[] ciphertext = base64(id, ciphertextBase64);
        try {
            Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key.value, "AES"), new IvParameterSpec(ivBytes));
            return c.doFinal(ciphertext);
        } catch (GeneralSecurityException e) {
            // a wrong key or iv shows as bad padding: say what to check, not the cipher's words
            throw new IllegalArgumentException("secret '" + id + "': cannot decrypt the value with the key '" + keyId
                    + "' and the iv given (wrong key, iv or data)", e);
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The value as QEMU's qcrypto_secret_lookup_as_utf8: it must be valid UTF-8. */
    public char[] utf8() {
        try {
            java.nio.CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(value));
            char[] out = new char[chars.remaining()];
            chars.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("Data from secret " + id + " is not valid UTF-8");
        }
    }

    /** A copy of the value's bytes. */
    public byte[] bytes() {
        return Arrays.copyOf(value, value.length);
    }

    @Override
    public String toString() {
        return "secret " + id + " (" + value.length + " bytes)";
    }
}
