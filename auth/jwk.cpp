#include "auth/jwk.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "auth/base64url.hpp"

namespace parley::auth {

namespace {

// -- OpenSSL ownership ------------------------------------------------------

struct bn_free {
  void operator()(BIGNUM* x) const {
    BN_free(x);
  }
};

struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* x) const {
    OSSL_PARAM_BLD_free(x);
  }
};

struct params_free {
  void operator()(OSSL_PARAM* x) const {
    OSSL_PARAM_free(x);
  }
};

struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* x) const {
    EVP_PKEY_CTX_free(x);
  }
};

using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, param_bld_free>;
using params_ptr = std::unique_ptr<OSSL_PARAM, params_free>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;

std::shared_ptr<evp_pkey_st> share(EVP_PKEY* x) {
  return std::shared_ptr<evp_pkey_st>{x, [](EVP_PKEY* p) { EVP_PKEY_free(p); }};
}

// Imports a public key from OSSL_PARAMs, the OpenSSL 3 way (no deprecated
// RSA_* / EC_KEY_* calls).
EVP_PKEY* from_params(const char* type, const OSSL_PARAM* params) {
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr)};
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0)
    return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY,
                        const_cast<OSSL_PARAM*>(params))
      <= 0)
    return nullptr;
  return pkey;
}

// -- JSON fields --------------------------------------------------------------

// The string member `name`, or nullptr when absent or not a string.
const std::string* text_field(const nlohmann::json& x, const char* name) {
  auto i = x.find(name);
  if (i == x.end() || !i->is_string())
    return nullptr;
  return i->get_ptr<const std::string*>();
}

// The base64url member `name` decoded; sets `why` when missing or invalid.
std::optional<std::string> bytes_field(const nlohmann::json& x,
                                       const char* name, std::string& why) {
  auto text = text_field(x, name);
  if (text == nullptr || text->empty()) {
    why = std::string{"missing "} + name;
    return std::nullopt;
  }
  auto bytes = base64url_decode(*text);
  if (!bytes)
    why = std::string{"invalid base64url in "} + name;
  return bytes;
}

bn_ptr to_bn(const std::string& big_endian) {
  return bn_ptr{
      BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                static_cast<int>(big_endian.size()), nullptr)};
}

// -- key types ----------------------------------------------------------------

std::shared_ptr<evp_pkey_st> rsa_key(const nlohmann::json& entry,
                                     std::string& why) {
  auto n = bytes_field(entry, "n", why);
  if (!n)
    return nullptr;
  auto e = bytes_field(entry, "e", why);
  if (!e)
    return nullptr;
  auto n_bn = to_bn(*n);
  auto e_bn = to_bn(*e);
  param_bld_ptr bld{OSSL_PARAM_BLD_new()};
  if (!n_bn || !e_bn || !bld
      || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get())
      || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E,
                                 e_bn.get())) {
    why = "out of memory";
    return nullptr;
  }
  params_ptr params{OSSL_PARAM_BLD_to_param(bld.get())};
  auto pkey = params ? share(from_params("RSA", params.get())) : nullptr;
  if (!pkey) {
    why = "OpenSSL rejected the RSA key";
    return nullptr;
  }
  if (EVP_PKEY_get_bits(pkey.get()) < min_rsa_bits) {
    why = "RSA key shorter than " + std::to_string(min_rsa_bits) + " bits";
    return nullptr;
  }
  return pkey;
}

std::shared_ptr<evp_pkey_st> ec_key(const nlohmann::json& entry,
                                    std::string& why) {
  auto crv = text_field(entry, "crv");
  if (crv == nullptr || *crv != "P-256") {
    why = "EC curve is not P-256";
    return nullptr;
  }
  auto x = bytes_field(entry, "x", why);
  if (!x)
    return nullptr;
  auto y = bytes_field(entry, "y", why);
  if (!y)
    return nullptr;
  // RFC 7518 6.2.1.2: coordinates are always the full 32 bytes.
  if (x->size() != 32 || y->size() != 32) {
    why = "EC coordinates are not 32 bytes";
    return nullptr;
  }
  // The uncompressed point: 0x04 || x || y.
  std::string point = "\x04" + *x + *y;
  param_bld_ptr bld{OSSL_PARAM_BLD_new()};
  if (!bld
      || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                          "prime256v1", 0)
      || !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                           point.data(), point.size())) {
    why = "out of memory";
    return nullptr;
  }
  params_ptr params{OSSL_PARAM_BLD_to_param(bld.get())};
  auto pkey = params ? share(from_params("EC", params.get())) : nullptr;
  if (!pkey) {
    why = "OpenSSL rejected the EC key";
    return nullptr;
  }
  // A point off the curve would open invalid-curve attacks: check it.
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr)};
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    why = "EC point is not on P-256";
    return nullptr;
  }
  return pkey;
}

} // namespace

std::shared_ptr<const jwk> jwk_from_json(const nlohmann::json& entry,
                                         std::string& why) {
  if (!entry.is_object()) {
    why = "entry is not an object";
    return nullptr;
  }
  auto kty = text_field(entry, "kty");
  if (kty == nullptr) {
    why = "missing kty";
    return nullptr;
  }
  if (auto use = text_field(entry, "use"); use != nullptr && *use != "sig") {
    why = "use is \"" + *use + "\", not \"sig\"";
    return nullptr;
  }
  if (entry.contains("kid") && !entry.at("kid").is_string()) {
    why = "kid is not a string";
    return nullptr;
  }
  auto result = std::make_shared<jwk>();
  if (auto kid = text_field(entry, "kid"))
    result->kid = *kid;
  auto alg = text_field(entry, "alg");
  if (*kty == "RSA") {
    if (alg != nullptr && *alg != "RS256") {
      why = "RSA key for " + *alg + ", not RS256";
      return nullptr;
    }
    result->type = key_type::rsa;
    result->pkey = rsa_key(entry, why);
  } else if (*kty == "EC") {
    if (alg != nullptr && *alg != "ES256") {
      why = "EC key for " + *alg + ", not ES256";
      return nullptr;
    }
    result->type = key_type::ec_p256;
    result->pkey = ec_key(entry, why);
  } else {
    why = "unsupported kty " + *kty;
    return nullptr;
  }
  if (!result->pkey)
    return nullptr;
  return result;
}

jwk_set::jwk_set(std::vector<std::shared_ptr<const jwk>> keys)
    : keys_(std::move(keys)) {
  // nop
}

const jwk* jwk_set::find(std::string_view kid) const {
  for (auto& k : keys_)
    if (k->kid == kid)
      return k.get();
  return nullptr;
}

const jwk* jwk_set::only() const {
  return keys_.size() == 1 ? keys_.front().get() : nullptr;
}

jwks_parse_result parse_jwks(std::string_view text) {
  jwks_parse_result result;
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    result.error = "JWKS is not a JSON object";
    return result;
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    result.error = "JWKS has no \"keys\" array";
    return result;
  }
  std::vector<std::shared_ptr<const jwk>> usable;
  std::size_t index = 0;
  for (auto& entry : *keys) {
    std::string why;
    auto key = jwk_from_json(entry, why);
    auto name = "key " + std::to_string(index++);
    if (entry.is_object() && entry.contains("kid")
        && entry.at("kid").is_string())
      name += " (kid " + entry.at("kid").dump() + ")";
    if (!key) {
      result.skipped.push_back(name + ": " + why);
      continue;
    }
    // Keys without kid are all kept: only() then refuses to pick among them.
    bool duplicate = false;
    for (auto& k : usable)
      duplicate = duplicate || (!key->kid.empty() && k->kid == key->kid);
    if (duplicate) {
      result.skipped.push_back(name + ": repeated kid");
      continue;
    }
    usable.push_back(std::move(key));
  }
  result.keys = std::make_shared<const jwk_set>(std::move(usable));
  return result;
}

} // namespace parley::auth
