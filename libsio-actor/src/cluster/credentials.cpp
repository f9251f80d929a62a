#include "cluster/credentials.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <caf/actor_system_config.hpp>

#include "sio/cluster_options.hpp"

namespace sio {
namespace cluster {
namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<T, Free>>;

using ssl_ctx_ptr = openssl_ptr<SSL_CTX, SSL_CTX_free>;
using x509_ptr = openssl_ptr<X509, X509_free>;
using pkey_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using store_ctx_ptr = openssl_ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using bignum_ptr = openssl_ptr<BIGNUM, BN_free>;

std::string last_openssl_error() {
  std::string text;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!text.empty())
      text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

int passphrase_callback(char* buf, int size, int, void* user) {
  auto& pass = *static_cast<const std::string*>(user);
  auto n = std::min<std::size_t>(pass.size(), static_cast<std::size_t>(size));
  std::memcpy(buf, pass.data(), n);
  return static_cast<int>(n);
}

/// An anonymous in-memory file holding `text`, inherited by child processes
/// (the workers), readable as /proc/self/fd/N by this process and by them.
std::string memory_file(const char* name, const std::string& text) {
  int fd = ::memfd_create(name, 0); // no MFD_CLOEXEC: workers inherit it
  if (fd < 0)
    throw std::runtime_error(std::string{"sio-actor: memfd_create failed: "}
                             + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw std::runtime_error("sio-actor: cannot write the run's cluster credentials");
    done += static_cast<std::size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

std::string pem_of(const std::function<int(BIO*)>& write) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio || write(bio.get()) != 1)
    throw std::runtime_error("sio-actor: cannot encode the run's cluster credentials: "
                             + last_openssl_error());
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext)
    return false;
  auto ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

} // namespace

std::optional<std::string> credentials_problem(const caf::actor_system_config& cfg) {
  if (cfg.openssl_certificate.empty() || cfg.openssl_key.empty()
      || (cfg.openssl_cafile.empty() && cfg.openssl_capath.empty()))
    return std::string{"the cluster needs --openssl.certificate, --openssl.key and "
                       "--openssl.cafile (scripts/cluster-certs makes them), or "
                       "--cluster-insecure"};
  ERR_clear_error();
  ssl_ctx_ptr ctx{SSL_CTX_new(TLS_method())};
  if (!ctx)
    return last_openssl_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cfg.openssl_certificate.c_str()) != 1)
    return "cannot load the certificate " + cfg.openssl_certificate + ": " + last_openssl_error();
  SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_callback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(),
                                         const_cast<std::string*>(&cfg.openssl_passphrase));
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), cfg.openssl_key.c_str(), SSL_FILETYPE_PEM) != 1)
    return "cannot load the private key " + cfg.openssl_key + ": " + last_openssl_error();
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return "the private key " + cfg.openssl_key + " does not belong to the certificate "
           + cfg.openssl_certificate;
  auto* cafile = cfg.openssl_cafile.empty() ? nullptr : cfg.openssl_cafile.c_str();
  auto* capath = cfg.openssl_capath.empty() ? nullptr : cfg.openssl_capath.c_str();
  if (SSL_CTX_load_verify_locations(ctx.get(), cafile, capath) != 1)
    return "cannot load the cluster CA: " + last_openssl_error();
  // Our own certificate must pass the check peers will make of it.
  store_ctx_ptr check{X509_STORE_CTX_new()};
  if (!check
      || X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(ctx.get()),
                             SSL_CTX_get0_certificate(ctx.get()), nullptr)
           != 1)
    return last_openssl_error();
  X509_STORE_CTX_set_purpose(check.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(check.get()) != 1)
    return "the certificate " + cfg.openssl_certificate + " is not accepted by the cluster CA: "
           + X509_verify_cert_error_string(X509_STORE_CTX_get_error(check.get()));
  return std::nullopt;
}

void make_run_credentials(caf::actor_system_config& cfg) {
  pkey_ptr key{EVP_EC_gen("P-256")};
  x509_ptr cert{X509_new()};
  bignum_ptr serial{BN_new()};
  bool ok = key && cert && serial && X509_set_version(cert.get(), 2) == 1
            && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1
            && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))
            && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600)
            && X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600)
            && X509_set_pubkey(cert.get(), key.get()) == 1;
  auto* name = ok ? X509_get_subject_name(cert.get()) : nullptr;
  ok = ok && name
       && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("sio-actor run"), -1,
                                     -1, 0)
            == 1
       && X509_set_issuer_name(cert.get(), name) == 1
       // Its own CA: every process of this run presents it and trusts only it.
       && add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE")
       && add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign")
       && add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth")
       && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok)
    throw std::runtime_error("sio-actor: cannot make the run's cluster certificate: "
                             + last_openssl_error());
  auto key_pem = pem_of([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  auto cert_pem = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  cfg.openssl_key = memory_file("sio-cluster-key", key_pem);
  cfg.openssl_certificate = memory_file("sio-cluster-cert", cert_pem);
  cfg.openssl_cafile = cfg.openssl_certificate;
  cfg.openssl_capath.clear();
  cfg.openssl_passphrase.clear();
}

} // namespace cluster

void use_run_credentials(caf::actor_system_config& cfg) {
  cluster::make_run_credentials(cfg);
}

} // namespace sio
