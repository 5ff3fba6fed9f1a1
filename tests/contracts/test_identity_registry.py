import time
import brownie
from brownie import accounts, IdentityRegistry, IssuerRegistry, LicenseRegistry, chain, web3
from eth_account import Account
import eth_keys

def test_probe():
    t=time.time()
    idr = IdentityRegistry.deploy({"from": accounts[0]})
    print("deploy", time.time()-t)
    key = bytes(range(1,33))
    a = accounts.add(key)
    pub = eth_keys.keys.PrivateKey(key).public_key.to_bytes()
    t=time.time()
    accounts[0].transfer(a, "1 ether")
    print("transfer", time.time()-t)
    t=time.time()
    tx = idr.register(1, pub, b"\x01"*32, {"from": a})
    print("register", time.time()-t, tx.events)
    t=time.time()
    try:
        idr.register(1, pub, b"\x01"*32, {"from": a})
    except Exception as e:
        print("ERR", type(e), repr(str(e)), getattr(e, "revert_msg", None))
    print("revert tx", time.time()-t)
    try:
        idr.register(1, pub, b"\x01"*32, {"from": accounts[1]})
    except Exception as e:
        print("ERR", type(e), repr(str(e)), getattr(e, "revert_msg", None))
    try:
        idr.publicKeyOf.call(accounts[2])
    except Exception as e:
        print("ERR call", type(e), repr(str(e)), getattr(e, "revert_msg", None))
    iss = IssuerRegistry.deploy([accounts[1]], idr, {"from": accounts[0]})
    t=time.time()
    try:
        iss.proposeSuspendAgency(b"X".ljust(32,b"\0"), {"from": accounts[1]})
    except Exception as e:
        print("ERR", type(e), repr(str(e)), getattr(e, "revert_msg", None))
    print("revert tx", time.time()-t)
    t=time.time()
    tx = iss.proposeAddAuthority(accounts[2], {"from": accounts[1]})
    print("rv", tx.return_value, time.time()-t, tx.events)
    print(iss.proposal(1))
    print(idr.identityOf(a), idr.roleOf(a), chain.id, chain.time(), web3.eth.get_block("latest").timestamp)
    t=time.time(); chain.sleep(100); chain.mine(); print(chain.time(), web3.eth.get_block("latest").timestamp, time.time()-t)
