package dev.meridian.tls;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Asks a certificate's OCSP responder (named in its Authority Information Access extension) whether
 * the certificate is good, and checks the answer: signed by the issuer or by a responder certificate
 * the issuer signed for OCSP, about this certificate, status good, and not expired.
 */
final class OcspClient {
    private final HttpClient http;
    private final Duration timeout;

    /** A fresh OCSP answer: the DER response to staple and when it stops being valid (null: unknown). */
    record Answer(byte[] response, Instant thisUpdate, Instant nextUpdate) {}

    OcspClient(Duration timeout) {
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** The OCSP responder URL in the certificate's AIA extension, if it names an http one. */
    static Optional<URI> responderOf(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.authorityInfoAccess.getId());
        if (extension == null) {
            return Optional.empty();
        }
        try {
            AuthorityInformationAccess aia = AuthorityInformationAccess.getInstance(
                    new JcaX509CertificateHolder(certificate).getExtension(Extension.authorityInfoAccess).getParsedValue());
            for (AccessDescription description : aia.getAccessDescriptions()) {
                GeneralName location = description.getAccessLocation();
                if (description.getAccessMethod().equals(AccessDescription.id_ad_ocsp)
                        && location.getTagNo() == GeneralName.uniformResourceIdentifier) {
                    String url = ASN1IA5String.getInstance(location.getName()).getString();
                    if (url.startsWith("http://") || url.startsWith("https://")) {
                        return Optional.of(URI.create(url));
                    }
                }
            }
        } catch (CertificateEncodingException | IllegalArgumentException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * Fetches and checks the status of {@code certificate}.
     *
     * @throws IOException with the reason when the responder cannot be reached or its answer is not
     *     a valid "good" response for this certificate
     */
    Answer fetch(X509Certificate certificate, X509Certificate issuer, URI responder, Instant now)
            throws IOException, InterruptedException {
        try {
            DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
            X509CertificateHolder issuerHolder = new JcaX509CertificateHolder(issuer);
            CertificateID id = new CertificateID(digests.get(CertificateID.HASH_SHA1), issuerHolder,
                    certificate.getSerialNumber());
            byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
            HttpResponse<byte[]> reply = http.send(HttpRequest.newBuilder(responder).timeout(timeout)
                    .header("Content-Type", "application/ocsp-request")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(request)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (reply.statusCode() != 200) {
                throw new IOException("responder " + responder + " answered HTTP " + reply.statusCode());
            }
            OCSPResp response = new OCSPResp(reply.body());
            if (response.getStatus() != OCSPResp.SUCCESSFUL) {
                throw new IOException("responder " + responder + " answered OCSP status " + response.getStatus());
            }
            BasicOCSPResp basic = (BasicOCSPResp) response.getResponseObject();
            checkSignature(basic, issuerHolder);
            SingleResp single = matching(basic, id);
            if (single.getCertStatus() != CertificateStatus.GOOD) {
                throw new IOException("responder " + responder + " says the certificate (serial "
                        + certificate.getSerialNumber().toString(16) + ") is not good (revoked or unknown)");
            }
            Instant thisUpdate = single.getThisUpdate().toInstant();
            Instant nextUpdate = single.getNextUpdate() == null ? null : single.getNextUpdate().toInstant();
            if (nextUpdate != null && !now.isBefore(nextUpdate)) {
                throw new IOException("responder " + responder + " sent an expired response (next update "
                        + nextUpdate + ")");
            }
            return new Answer(reply.body(), thisUpdate, nextUpdate);
        } catch (OCSPException | OperatorCreationException | CertificateException | IllegalArgumentException
                | ClassCastException e) {
            throw new IOException("responder " + responder + ": unusable OCSP exchange (" + e.getMessage() + ")", e);
        }
    }

    private static SingleResp matching(BasicOCSPResp basic, CertificateID id) throws IOException {
        for (SingleResp single : basic.getResponses()) {
            if (single.getCertID().equals(id)) {
                return single;
            }
        }
        throw new IOException("the OCSP response is about another certificate");
    }

    /** Signed by the issuer itself, or by a delegated responder certificate the issuer signed for OCSP signing. */
    private static void checkSignature(BasicOCSPResp basic, X509CertificateHolder issuer)
            throws OCSPException, OperatorCreationException, CertificateException, IOException {
        JcaContentVerifierProviderBuilder verifiers = new JcaContentVerifierProviderBuilder();
        if (basic.isSignatureValid(verifiers.build(issuer))) {
            return;
        }
        for (X509CertificateHolder delegate : basic.getCerts()) {
            try {
                boolean issuedByIssuer = delegate.isSignatureValid(verifiers.build(issuer));
                ExtendedKeyUsage usage = delegate.getExtensions() == null ? null
                        : ExtendedKeyUsage.fromExtensions(delegate.getExtensions());
                boolean forOcsp = usage != null && usage.hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning);
                if (issuedByIssuer && forOcsp && basic.isSignatureValid(verifiers.build(delegate))) {
                    return;
                }
            } catch (org.bouncycastle.cert.CertException e) {
                // not this one
            }
        }
        throw new IOException("the OCSP response is not signed by the issuer or a responder it authorized");
    }
}
