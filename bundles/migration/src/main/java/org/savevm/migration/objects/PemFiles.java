package org.savevm.migration.objects;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Certificates and private keys in the PEM files QEMU's tls-creds-x509 reads. Keys come in the three forms openssl
 * and certtool write: PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) and SEC1 EC
 * ({@code BEGIN EC PRIVATE KEY}); the JDK reads only PKCS#8, so the other two are wrapped into a PKCS#8 structure
 * (RFC 5208: version, algorithm identifier, the key as an octet string) before the JDK's key factory reads them.
 */
final class PemFiles {
    /** A PEM file is a few kilobytes; anything much larger is not one. */
    private static final long MAX_FILE = 1 << 20;
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7,
        0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** id-ecPublicKey, 1.2.840.10045.2.1. */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private PemFiles() {
    }

    private record Block(String label, byte[] der) {
    }

    static List<X509Certificate> certificates(Path file) throws IOException {
        return parsed(file, "certificate", "CERTIFICATE", Set.of("CERTIFICATE", "X509 CERTIFICATE"),
                (cf, der) -> (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
    }

    /** The revocation lists ({@code BEGIN X509 CRL}) of a file such as QEMU's ca-crl.pem. */
    static List<X509CRL> crls(Path file) throws IOException {
        return parsed(file, "CRL", "X509 CRL", Set.of("X509 CRL"),
                (cf, der) -> (X509CRL) cf.generateCRL(new ByteArrayInputStream(der)));
    }

    private interface X509Parser<T> {
        T parse(CertificateFactory cf, byte[] der) throws GeneralSecurityException;
    }

    /** Every block of {@code file} whose label is one of {@code labels}, through the JDK's X.509 factory; one at least. */
    private static <T> List<T> parsed(Path file, String what, String label, Set<String> labels, X509Parser<T> parser)
            throws IOException {
        String text = read(file);
        List<T> out = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file, text)) {
                if (labels.contains(b.label())) {
                    out.add(parser.parse(cf, b.der()));
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("Cannot load " + what + " '" + file + "': " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IOException("Cannot load " + what + " '" + file + "': no " + label + " block in it");
        }
        return out;
    }

    static PrivateKey privateKey(Path file) throws IOException {
        return privateKey(file, null);
    }

    /**
     * The first private key of {@code file}; an encrypted PKCS#8 key ({@code BEGIN ENCRYPTED PRIVATE KEY}, as
     * {@code openssl genpkey -aes256} and {@code certtool --password} write) is decrypted with {@code password}.
     */
    static PrivateKey privateKey(Path file, char[] password) throws IOException {
        String text = read(file);
        if (text.contains("Proc-Type: 4,ENCRYPTED")) {
            throw new IOException("Cannot load key '" + file + "': it is encrypted the traditional OpenSSL way"
                    + " (Proc-Type), which is not read here; convert it to encrypted PKCS#8 with"
                    + " openssl pkcs8 -topk8 -v2 aes256");
        }
        for (Block b : blocks(file, text)) {
            try {
                switch (b.label()) {
                    case "PRIVATE KEY" -> {
                        return pkcs8(b.der(), "RSA", "EC", "Ed25519", "Ed448", "DSA", "RSASSA-PSS");
                    }
                    case "ENCRYPTED PRIVATE KEY" -> {
                        if (password == null) {
                            throw new IOException("the key is encrypted: give its password as a secret object"
                                    + " named by passwordid=ID");
                        }
                        return pkcs8(decrypt(b.der(), password), "RSA", "EC", "Ed25519", "Ed448", "DSA",
                                "RSASSA-PSS");
                    }
                    case "RSA PRIVATE KEY" -> {
                        return pkcs8(wrap(RSA_ALGORITHM, b.der()), "RSA");
                    }
                    case "EC PRIVATE KEY" -> {
                        return pkcs8(wrap(ecAlgorithm(b.der()), b.der()), "EC");
                    }
                    default -> {
                        // EC PARAMETERS and the like precede the key in some files
                    }
                }
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                throw new IOException("Cannot load key '" + file + "' (" + b.label() + "): " + e.getMessage(), e);
            }
        }
        throw new IOException("Cannot load key '" + file + "': no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block in it");
    }

    /**
     * EncryptedPrivateKeyInfo (RFC 5958) to PrivateKeyInfo. For PBES2 the JDK names the scheme "PBES2" but wants
     * the cipher by the name its parameters carry (e.g. PBEWithHmacSHA256AndAES_256); older PBE schemes are named
     * directly.
     */
    private static byte[] decrypt(byte[] der, char[] password) throws IOException, GeneralSecurityException {
        EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
        AlgorithmParameters params = info.getAlgParameters();
        String scheme = params != null && info.getAlgName().equals("PBES2") ? params.toString() : info.getAlgName();
        PBEKeySpec spec = new PBEKeySpec(password);
        try {
            SecretKey k = SecretKeyFactory.getInstance(scheme).generateSecret(spec);
            Cipher c = Cipher.getInstance(scheme);
            c.init(Cipher.DECRYPT_MODE, k, params);
            return info.getKeySpec(c).getEncoded();
        } catch (java.security.spec.InvalidKeySpecException e) {
            throw new IOException("cannot decrypt the key: wrong password (" + scheme + ")", e);
        } finally {
            spec.clearPassword();
        }
    }

    private static PrivateKey pkcs8(byte[] der, String... algorithms) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String a : algorithms) {
            try {
                return KeyFactory.getInstance(a).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /** PrivateKeyInfo ::= SEQUENCE { version 0, algorithm AlgorithmIdentifier, privateKey OCTET STRING }. */
    private static byte[] wrap(byte[] algorithm, byte[] key) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(algorithm);
        body.writeBytes(tlv(0x04, key));
        return tlv(0x30, body.toByteArray());
    }

    /**
     * SEC1's ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, parameters [0] curve OID, ... }: the
     * algorithm identifier is id-ecPublicKey with that curve.
     */
    private static byte[] ecAlgorithm(byte[] sec1) throws IOException {
        Der outer = new Der(sec1, 0);
        if (outer.tag != 0x30) {
            throw new IOException("EC key is not a DER SEQUENCE");
        }
        int p = outer.contentStart;
        int end = outer.contentStart + outer.length;
        while (p < end) {
            Der e = new Der(sec1, p);
            if (e.tag == 0xa0) {
                Der oid = new Der(sec1, e.contentStart);
                if (oid.tag != 0x06) {
                    throw new IOException("EC key names its curve by explicit parameters; only named curves are read");
                }
                byte[] curve = java.util.Arrays.copyOfRange(sec1, e.contentStart, oid.contentStart + oid.length);
                ByteArrayOutputStream alg = new ByteArrayOutputStream();
                alg.writeBytes(EC_PUBLIC_KEY_OID);
                alg.writeBytes(curve);
                return tlv(0x30, alg.toByteArray());
            }
            p = e.contentStart + e.length;
        }
        throw new IOException("EC key without its curve ([0] parameters)");
    }

    /** One DER element's header, checked against the buffer's bounds. */
    private static final class Der {
        final int tag;
        final int length;
        final int contentStart;

        Der(byte[] b, int at) throws IOException {
            if (at + 2 > b.length) {
                throw new IOException("DER element cut at byte " + at);
            }
            tag = b[at] & 0xff;
            int l = b[at + 1] & 0xff;
            int p = at + 2;
            if (l >= 0x80) {
                int n = l & 0x7f;
                if (n == 0 || n > 3 || p + n > b.length) {
                    throw new IOException("DER length at byte " + (at + 1) + " not understood");
                }
                l = 0;
                for (int i = 0; i < n; i++) {
                    l = (l << 8) | (b[p++] & 0xff);
                }
            }
            if (p + l > b.length) {
                throw new IOException("DER element at byte " + at + " runs past the end");
            }
            length = l;
            contentStart = p;
        }
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(tag);
        int n = content.length;
        if (n < 0x80) {
            o.write(n);
        } else if (n < 0x100) {
            o.write(0x81);
            o.write(n);
        } else if (n < 0x10000) {
            o.write(0x82);
            o.write(n >> 8);
            o.write(n);
        } else {
            o.write(0x83);
            o.write(n >> 16);
            o.write(n >> 8);
            o.write(n);
        }
        o.writeBytes(content);
        return o.toByteArray();
    }

    private static String read(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE) {
            throw new IOException("'" + file + "' is larger than " + MAX_FILE + " bytes: not a PEM file");
        }
        return Files.readString(file, StandardCharsets.US_ASCII);
    }

    private static List<Block> blocks(Path file, String text) throws IOException {
        List<Block> out = new ArrayList<>();
        int at = 0;
        while (true) {
            int begin = text.indexOf("-----BEGIN ", at);
            if (begin < 0) {
                return out;
            }
            int labelEnd = text.indexOf("-----", begin + 11);
            if (labelEnd < 0) {
                throw new IOException("'" + file + "': unterminated PEM header at character " + begin);
            }
            String label = text.substring(begin + 11, labelEnd);
            String footer = "-----END " + label + "-----";
            int end = text.indexOf(footer, labelEnd);
            if (end < 0) {
                throw new IOException("'" + file + "': no '" + footer + "' after character " + begin);
            }
            StringBuilder b64 = new StringBuilder();
            for (String line : text.substring(labelEnd + 5, end).split("\n")) {
                String l = line.trim();
                if (!l.isEmpty() && !l.contains(":")) {
                    b64.append(l);
                }
            }
            try {
                out.add(new Block(label, Base64.getDecoder().decode(b64.toString())));
            } catch (IllegalArgumentException e) {
                throw new IOException("'" + file + "': bad base64 in the " + label + " block: " + e.getMessage(), e);
            }
            at = end + footer.length();
        }
    }
}
