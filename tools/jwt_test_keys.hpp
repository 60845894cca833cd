#pragma once

// Test-only helpers for the JWT suites: key pairs generated on the spot with
// OpenSSL, RS256 / ES256 signing, JWK export and temporary JWKS files. The
// library under test only ever verifies; signing lives here so that the
// tests mint real tokens the way an issuer would.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/base64url.hpp"

namespace parley::test {

struct pkey_free {
  void operator()(EVP_PKEY* x) const {
    EVP_PKEY_free(x);
  }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

inline void require(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string{"OpenSSL failed: "} + what);
}

// A fresh key pair: "RSA" (2048 bits unless told) or "EC" (P-256).
inline pkey_ptr generate_key(const char* type, int rsa_bits = 2048) {
  std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx{
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free};
  require(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1, "keygen_init");
  if (std::string_view{type} == "RSA")
    require(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_bits) == 1,
            "rsa bits");
  else
    require(EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") == 1, "group");
  EVP_PKEY* key = nullptr;
  require(EVP_PKEY_keygen(ctx.get(), &key) == 1, "keygen");
  return pkey_ptr{key};
}

inline pkey_ptr rsa_key() {
  return generate_key("RSA");
}

inline pkey_ptr ec_key() {
  return generate_key("EC");
}

// A DER-encoded signature over SHA-256 (RSA PKCS#1 v1.5 or ECDSA).
inline std::string digest_sign(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx{EVP_MD_CTX_new(),
                                                         EVP_MD_CTX_free};
  require(
      ctx
          && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key)
                 == 1,
      "sign init");
  auto in = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t len = 0;
  require(EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) == 1,
          "sign size");
  std::string out(len, '\0');
  require(EVP_DigestSign(ctx.get(),
                         reinterpret_cast<unsigned char*>(out.data()), &len, in,
                         data.size())
              == 1,
          "sign");
  out.resize(len);
  return out;
}

inline std::string sign_rs256(EVP_PKEY* key, std::string_view data) {
  return digest_sign(key, data);
}

// ES256 as JWS wants it: raw r || s, 32 bytes each (OpenSSL gives DER).
inline std::string sign_es256(EVP_PKEY* key, std::string_view data) {
  auto der = digest_sign(key, data);
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> sig{
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())),
      ECDSA_SIG_free};
  require(sig != nullptr, "d2i_ECDSA_SIG");
  std::string out(64, '\0');
  auto raw = reinterpret_cast<unsigned char*>(out.data());
  require(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, 32) == 32
              && BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw + 32, 32) == 32,
          "r||s");
  return out;
}

// HMAC-SHA256 straight from OpenSSL, independent of the code under test.
inline std::string sign_hs256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char empty = 0;
  auto k = key.empty() ? &empty
                       : reinterpret_cast<const unsigned char*>(key.data());
  require(HMAC(EVP_sha256(), k, static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(data.data()), data.size(),
               out, &len)
              != nullptr,
          "HMAC");
  return std::string{reinterpret_cast<char*>(out), len};
}

inline std::string b64(const nlohmann::json& x) {
  return auth::base64url_encode(x.dump());
}

// "header.payload" for the given JSON parts.
inline std::string signing_input(const nlohmann::json& header,
                                 const nlohmann::json& payload) {
  return b64(header) + "." + b64(payload);
}

// A complete token signed with `key`: RS256 for RSA keys, ES256 for EC
// keys; the header is used as given (tests set alg and kid freely).
inline std::string sign_token(EVP_PKEY* key, const nlohmann::json& header,
                              const nlohmann::json& payload) {
  auto input = signing_input(header, payload);
  auto sig = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? sign_es256(key, input)
                                                      : sign_rs256(key, input);
  return input + "." + auth::base64url_encode(sig);
}

// A complete HS256 token with the header as given.
inline std::string hs256_token(std::string_view secret,
                               const nlohmann::json& header,
                               const nlohmann::json& payload) {
  auto input = signing_input(header, payload);
  return input + "." + auth::base64url_encode(sign_hs256(secret, input));
}

inline std::string bn_bytes(const BIGNUM* x, int width = 0) {
  auto n = width > 0 ? width : BN_num_bytes(x);
  std::string out(static_cast<std::size_t>(n), '\0');
  require(BN_bn2binpad(x, reinterpret_cast<unsigned char*>(out.data()), n) == n,
          "bn2bin");
  return out;
}

inline std::string bn_param(EVP_PKEY* key, const char* name, int width = 0) {
  BIGNUM* bn = nullptr;
  require(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  auto out = bn_bytes(bn, width);
  BN_free(bn);
  return auth::base64url_encode(out);
}

// The public half of `key` as a JWK entry, as an issuer publishes it.
inline nlohmann::json public_jwk(EVP_PKEY* key, const std::string& kid) {
  nlohmann::json out;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    out = {{"kty", "EC"},
           {"crv", "P-256"},
           {"alg", "ES256"},
           {"x", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)},
           {"y", bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)}};
  } else {
    out = {{"kty", "RSA"},
           {"alg", "RS256"},
           {"n", bn_param(key, OSSL_PKEY_PARAM_RSA_N)},
           {"e", bn_param(key, OSSL_PKEY_PARAM_RSA_E)}};
  }
  out["use"] = "sig";
  if (!kid.empty())
    out["kid"] = kid;
  return out;
}

// The public key as PEM text ("-----BEGIN PUBLIC KEY-----...").
inline std::string public_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, int (*)(BIO*)> bio{BIO_new(BIO_s_mem()), BIO_free};
  require(bio && PEM_write_bio_PUBKEY(bio.get(), key) == 1, "pem");
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio.get(), &data);
  return std::string{data, static_cast<std::size_t>(len)};
}

// The public key as DER (SubjectPublicKeyInfo) bytes.
inline std::string public_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  auto len = i2d_PUBKEY(key, &der);
  require(len > 0, "i2d_PUBKEY");
  std::string out{reinterpret_cast<char*>(der), static_cast<std::size_t>(len)};
  OPENSSL_free(der);
  return out;
}

// A file in $TMPDIR (or /tmp), removed when this object goes.
class temp_file {
public:
  explicit temp_file(const std::string& content) {
    auto dir = std::getenv("TMPDIR");
    path_ = std::string{dir != nullptr && *dir != '\0' ? dir : "/tmp"}
            + "/parley-jwks-XXXXXX";
    auto fd = mkstemp(path_.data());
    require(fd >= 0, "mkstemp");
    close(fd);
    write(content);
  }

  temp_file(const temp_file&) = delete;

  temp_file& operator=(const temp_file&) = delete;

  ~temp_file() {
    std::remove(path_.c_str());
  }

  void write(const std::string& content) {
    auto f = std::fopen(path_.c_str(), "wb");
    require(f != nullptr, "fopen");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  }

  const std::string& path() const {
    return path_;
  }

  std::string url() const {
    return "file://" + path_;
  }

private:
  std::string path_;
};

} // namespace parley::test
