#include "auth/signature.hpp"

#include <memory>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace parley::auth {

namespace {

const unsigned char* bytes(std::string_view x) {
  return reinterpret_cast<const unsigned char*>(x.data());
}

struct md_ctx_free {
  void operator()(EVP_MD_CTX* x) const {
    EVP_MD_CTX_free(x);
  }
};

struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* x) const {
    ECDSA_SIG_free(x);
  }
};

bool digest_verify(EVP_PKEY* key, std::string_view data,
                   const unsigned char* sig, std::size_t sig_len) {
  if (key == nullptr)
    return false;
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx{EVP_MD_CTX_new()};
  if (!ctx
      || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key)
             != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), sig, sig_len, bytes(data), data.size())
         == 1;
}

} // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  // HMAC() wants a non-null key pointer even for an empty key.
  static const unsigned char empty = 0;
  auto key_ptr = key.empty() ? &empty : bytes(key);
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), bytes(data),
           data.size(), out, &out_len)
      == nullptr)
    return {};
  return std::string{reinterpret_cast<char*>(out), out_len};
}

bool verify_hs256(std::string_view key, std::string_view data,
                  std::string_view mac) {
  auto expected = hmac_sha256(key, data);
  // The length is public (always 32), so checking it first leaks nothing.
  return expected.size() == 32 && mac.size() == expected.size()
         && CRYPTO_memcmp(expected.data(), mac.data(), mac.size()) == 0;
}

bool verify_rs256(evp_pkey_st* key, std::string_view data,
                  std::string_view signature) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    return false;
  return digest_verify(key, data, bytes(signature), signature.size());
}

bool verify_es256(evp_pkey_st* key, std::string_view data,
                  std::string_view signature) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC
      || signature.size() != 64)
    return false;
  std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig{ECDSA_SIG_new()};
  auto r = BN_bin2bn(bytes(signature), 32, nullptr);
  auto s = BN_bin2bn(bytes(signature) + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr
      || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  unsigned char* der = nullptr;
  auto der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0)
    return false;
  auto ok = digest_verify(key, data, der, static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  return ok;
}

} // namespace parley::auth
