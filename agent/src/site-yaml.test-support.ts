/**
 * Site specifications as an operator writes them (YAML), for tests that run the agent or the
 * cloud as processes.
 */

/**
 * On loopback: director d1 (127.0.0.1, lo) and real server r1 (127.0.0.2) behind web
 * 127.0.0.50:8080, wrr. Line 12 is the scheduler line (tests point at it in error messages).
 */
export const loopbackSiteYaml = (site: string, weight: number) => `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: ${site} }
spec:
  nodes:
    - { name: d1, role: director, address: 127.0.0.1, interface: lo }
    - { name: r1, role: realserver, address: 127.0.0.2 }
  services:
    - name: web
      vip: 127.0.0.50
      port: 8080
      scheduler: wrr
      realServers:
        - { node: r1, weight: ${weight} }
`;

/** For the network-namespace lab (test range 10.99.x.x): director d1, real server rs1 in web's pool or not. */
export const labSiteYaml = (withRs1: boolean) => `apiVersion: lvsfleet/v1
kind: Site
metadata: { name: lab }
spec:
  nodes:
    - { name: d1, role: director, address: 10.99.0.11, interface: lo }
    - { name: rs1, role: realserver, address: 10.99.0.21 }
  services:
    - name: web
      vip: 10.99.0.50
      port: 80
      scheduler: rr
      forwarding: dr
      realServers:
${withRs1 ? '        - { node: rs1, weight: 1 }\n' : ''}        - { address: 10.99.0.22, weight: 1 }
`;
