# Installation beyond the binary and its defaults (CMakeLists.txt), and the Debian package.
#
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DFLOWTOP_TESTS=OFF -DFLOWTOP_TEST_HOOKS=OFF
#   cmake --build build-deb --target flowtop
#   cd build-deb && cpack -G DEB          # flowtop_<version>_<arch>.deb
#
# With the prefix /usr, GNUInstallDirs puts the configuration in /etc and the state in /var.
# flowtop itself reads /etc/flowtop and /var/lib/flowtop whatever the prefix.

set(FLOWTOP_MAINTAINER "flowtop maintainers <maintainers@users.noreply.r-seed-5c22435a.example>"
    CACHE STRING "Maintainer of the Debian package")
set(FLOWTOP_SYSTEMD_UNIT_DIR "lib/systemd/system"
    CACHE STRING "Directory of the systemd system units (relative: under the prefix)")

set(FLOWTOP_ETC_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/flowtop")
set(FLOWTOP_SBIN_DIR "${CMAKE_INSTALL_FULL_SBINDIR}")

# Debian ships man pages and big documents compressed; -n leaves out the name and time stamp, so
# the package is the same from one build to the next.
find_program(FLOWTOP_GZIP gzip REQUIRED)
foreach(doc man/flowtop.8 README.md)
  get_filename_component(name ${doc} NAME)
  install(CODE "execute_process(COMMAND \"${FLOWTOP_GZIP}\" -9nc \"${CMAKE_SOURCE_DIR}/${doc}\"
                                OUTPUT_FILE \"${CMAKE_BINARY_DIR}/${name}.gz\"
                                COMMAND_ERROR_IS_FATAL ANY)")
endforeach()
install(FILES ${CMAKE_BINARY_DIR}/flowtop.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_BINARY_DIR}/README.md.gz packaging/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The shipped configuration, editable in /etc/flowtop (conffiles: an edited file is kept).
install(FILES conf/tcp.conf conf/udp.conf conf/geoip.conf DESTINATION ${FLOWTOP_ETC_DIR})
# Where 'flowtop -u' installs the GeoIP databases.
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/flowtop)

install(FILES completions/flowtop.bash RENAME flowtop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES completions/_flowtop DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# 'flowtop -u' as a oneshot service and a weekly timer: installed, not enabled.
configure_file(packaging/flowtop-update.service.in flowtop-update.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/flowtop-update.service packaging/flowtop-update.timer
        DESTINATION ${FLOWTOP_SYSTEMD_UNIT_DIR})

configure_file(packaging/deb/conffiles.in deb/conffiles @ONLY)
foreach(script postinst prerm postrm)
  configure_file(packaging/deb/${script} deb/${script} COPYONLY)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME flowtop)
set(CPACK_PACKAGE_VENDOR "flowtop")
set(CPACK_PACKAGE_CONTACT "${FLOWTOP_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "top-like viewer of the netfilter connection tracking table")
set(CPACK_PACKAGE_DESCRIPTION
    "flowtop shows the flows that the Linux kernel's connection tracking
already keeps (TCP, UDP and UDP-lite, SCTP, DCCP, ICMP and ICMPv6, over IPv4
and IPv6) without capturing packets: per flow the owning process and user,
the remote host's name, country, city and AS, the service, the protocol
state, and the bytes, packets and rates of each direction.

It runs on an end host or on a router, where it also shows the forwarded
flows, as an interactive screen, as plain-text frames (--batch) or as NDJSON
(--json).
It stays responsive under high conntrack event rates and resynchronises after
lost events. 'flowtop -u' downloads the free DB-IP Lite GeoIP databases, or
MaxMind GeoLite2 with an account.

It is a rewrite of flowtop from the netsniff-ng toolkit.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FLOWTOP_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "conntrack")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/deb/conffiles ${CMAKE_BINARY_DIR}/deb/postinst
    ${CMAKE_BINARY_DIR}/deb/prerm ${CMAKE_BINARY_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
