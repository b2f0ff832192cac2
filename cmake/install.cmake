# Install rules of every offca program, one install COMPONENT per Debian package: debian/rules
# runs `cmake --install --component P` into debian/P for each package P of debian/control, so the
# component name IS the package name. `cmake --install build` (no component) installs everything.
#
# Adding a program takes two calls here and a stanza in debian/control:
#   offca_install_program(NAME "one-line description for the man page" DOCS docs/NAME.md)
#   offca_install_units(NAME)    # scripts/systemd/NAME{,-*,@}.{service,timer,socket}
#                                # + NAME.{sysusers,tmpfiles,default}
include(GNUInstallDirs)

option(OFFCA_MANPAGES "Generate man pages from --help with help2man at build time" OFF)
# relative to the install prefix unless absolute (debian/rules passes /lib/systemd/system)
set(OFFCA_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING "where systemd units are installed")
set(OFFCA_SYSUSERSDIR "lib/sysusers.d" CACHE STRING "where sysusers.d entries are installed")
set(OFFCA_TMPFILESDIR "lib/tmpfiles.d" CACHE STRING "where tmpfiles.d entries are installed")
if(OFFCA_MANPAGES)
  find_program(HELP2MAN help2man REQUIRED)
endif()

# offca_install_program(TARGET DESCRIPTION [DOCS file-or-dir...]): the binary into bin/, its man
# page (OFFCA_MANPAGES=ON) into share/man/man1/, DOCS into share/doc/TARGET/ (directories whole).
function(offca_install_program target description)
  cmake_parse_arguments(P "" "" "DOCS" ${ARGN})
  install(TARGETS ${target} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${target})
  set(docdir ${CMAKE_INSTALL_DATAROOTDIR}/doc/${target})
  foreach(doc ${P_DOCS})
    if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/${doc})
      install(DIRECTORY ${CMAKE_SOURCE_DIR}/${doc} DESTINATION ${docdir} COMPONENT ${target})
    else()
      install(FILES ${CMAKE_SOURCE_DIR}/${doc} DESTINATION ${docdir} COMPONENT ${target})
    endif()
  endforeach()
  if(OFFCA_MANPAGES)
    # the page: --help, then every command's --help (cmake/man-commands.sh), then where the docs are
    set(page ${CMAKE_BINARY_DIR}/man/${target}.1)
    set(include ${CMAKE_BINARY_DIR}/man/${target}.h2m)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND sh ${CMAKE_SOURCE_DIR}/cmake/man-commands.sh $<TARGET_FILE:${target}>
              ${CMAKE_INSTALL_FULL_DATAROOTDIR}/doc/${target} ${include}
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
              --name=${description} --include=${include} --output=${page} $<TARGET_FILE:${target}>
      DEPENDS ${target} ${CMAKE_SOURCE_DIR}/cmake/man-commands.sh VERBATIM)
    add_custom_target(man-${target} ALL DEPENDS ${page})
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${target})
  endif()
endfunction()

# offca_install_units(COMPONENT): scripts/systemd/COMPONENT.{service,timer,socket,path} and
# COMPONENT-*.{...} into the unit directory, with /usr/bin/offca... and /usr/share/doc/offca...
# rewritten to the install-time prefix (so ExecStart= names the installed binary);
# COMPONENT.sysusers into sysusers.d/COMPONENT.conf, COMPONENT.tmpfiles into
# tmpfiles.d/COMPONENT.conf, COMPONENT.default into /etc/default/COMPONENT.
function(offca_install_units component)
  set(dir ${CMAKE_SOURCE_DIR}/scripts/systemd)
  file(GLOB units CONFIGURE_DEPENDS
       ${dir}/${component}.service ${dir}/${component}.timer ${dir}/${component}.socket
       ${dir}/${component}.path ${dir}/${component}-*.service ${dir}/${component}-*.timer
       ${dir}/${component}-*.socket ${dir}/${component}-*.path
       ${dir}/${component}@.service ${dir}/${component}@.timer)
  foreach(unit ${units})
    get_filename_component(name ${unit} NAME)
    set(staged ${CMAKE_BINARY_DIR}/units/${name})
    install(CODE "
      set(_dir \"${OFFCA_SYSTEMD_UNITDIR}\")
      if(NOT IS_ABSOLUTE \"\${_dir}\")
        set(_dir \"\${CMAKE_INSTALL_PREFIX}/\${_dir}\")
      endif()
      file(READ \"${unit}\" _u)
      string(REPLACE \"/usr/bin/offca\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/offca\" _u \"\${_u}\")
      string(REPLACE \"/usr/share/doc/offca\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATAROOTDIR}/doc/offca\" _u \"\${_u}\")
      file(WRITE \"${staged}\" \"\${_u}\")
      file(INSTALL DESTINATION \"\${_dir}\" TYPE FILE FILES \"${staged}\")
    " COMPONENT ${component})
  endforeach()
  if(EXISTS ${dir}/${component}.sysusers)
    install(FILES ${dir}/${component}.sysusers DESTINATION ${OFFCA_SYSUSERSDIR}
            RENAME ${component}.conf COMPONENT ${component})
  endif()
  if(EXISTS ${dir}/${component}.tmpfiles)
    install(FILES ${dir}/${component}.tmpfiles DESTINATION ${OFFCA_TMPFILESDIR}
            RENAME ${component}.conf COMPONENT ${component})
  endif()
  if(EXISTS ${dir}/${component}.default)
    # /etc for the /usr prefix (as GNUInstallDirs), PREFIX/etc otherwise: decided at install time
    install(CODE "
      set(_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
      if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
        set(_etc /etc)
      endif()
      file(INSTALL DESTINATION \"\${_etc}/default\" TYPE FILE RENAME ${component}
           FILES \"${dir}/${component}.default\")
    " COMPONENT ${component})
  endif()
endfunction()

# --- offca: the offline CA appliance --------------------------------------------------------
file(GLOB OFFCA_DOC_PAGES RELATIVE ${CMAKE_SOURCE_DIR} CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
list(REMOVE_ITEM OFFCA_DOC_PAGES docs/acme.md docs/gateway.md docs/agent.md)
offca_install_program(offca "offline certificate authority with keys on PKCS#11 tokens"
                      DOCS ${OFFCA_DOC_PAGES} docs/examples)

# --- offca-acme: the online ACME helper -------------------------------------------------------
if(TARGET offca-acme)
  offca_install_program(offca-acme "ACME (RFC 8555) client with DNS-01 for public certificates"
                        DOCS docs/acme.md)
  offca_install_units(offca-acme)
  # the DNS hooks the docs point to: /usr/share/offca/dns-hooks/ (common.sh is sourced, not run)
  file(GLOB OFFCA_DNS_HOOKS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scripts/dns-hooks/*.sh)
  list(REMOVE_ITEM OFFCA_DNS_HOOKS ${CMAKE_SOURCE_DIR}/scripts/dns-hooks/common.sh)
  install(PROGRAMS ${OFFCA_DNS_HOOKS} DESTINATION ${CMAKE_INSTALL_DATADIR}/offca/dns-hooks
          COMPONENT offca-acme)
  install(FILES ${CMAKE_SOURCE_DIR}/scripts/dns-hooks/common.sh
          DESTINATION ${CMAKE_INSTALL_DATADIR}/offca/dns-hooks COMPONENT offca-acme)
endif()

# --- offca-gateway (online, no CA key) and offca-agent (on each endpoint) ---------------------
if(TARGET offca-gateway)
  offca_install_program(offca-gateway "EST (RFC 7030) gateway whose queue crosses the air gap to offca"
                        DOCS docs/gateway.md docs/distribution.md)
  offca_install_units(offca-gateway)
endif()
if(TARGET offca-agent)
  offca_install_program(offca-agent "endpoint agent: enrolls, renews and installs certificates through offca-gateway"
                        DOCS docs/agent.md docs/distribution.md)
  offca_install_units(offca-agent)
endif()
